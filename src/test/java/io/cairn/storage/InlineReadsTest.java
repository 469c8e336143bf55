package io.cairn.storage;

import io.cairn.TestServer;
import io.cairn.proto.v1.KeyValue;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.cairn.Queries.get;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Small reads whose data is in memory are answered on the front's event loop; larger ones, and ones whose data is
 * only on disk, go to a reader. Either way the client gets the same answer.
 */
class InlineReadsTest {

  private static final String ANSWERED = "cairn_storage_inline_reads_total{outcome=\"answered\"}";
  private static final String DECLINED = "cairn_storage_inline_reads_total{outcome=\"declined\"}";

  @TempDir
  Path dataDir;

  @Test
  void smallReadsAreAnsweredInlineAndReadsPastTheKeyBudgetByAReader() throws Exception {
    try (TestServer server = TestServer.start(dataDir, "storage.inline-read-keys=4")) {
      for (int i = 0; i < 10; i++) {
        server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("inline", "k" + i, "v" + i))).ok();
      }
      double answered = server.metric(ANSWERED);
      double declined = server.metric(DECLINED);

      QueryResponse one = server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("inline", "k3"))).ok();
      assertThat(one.getResult().getGet().getKv().getValue().toStringUtf8()).isEqualTo("v3");
      assertThat(server.metric(ANSWERED)).isEqualTo(answered + 1);

      List<KeyValue> all = server.call(QueryServiceGrpcClient.ExecuteQuery, request(range("inline", "", "", 0))).ok()
          .getResult().getRange().getKvsList();
      assertThat(all).extracting(kv -> kv.getKey().toStringUtf8())
          .containsExactly("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9");
      assertThat(server.metric(DECLINED)).isEqualTo(declined + 1);
      assertThat(server.metric(ANSWERED)).isEqualTo(answered + 1);
    }
  }

  @Test
  void aReadOfDataOnlyOnDiskGoesToAReaderAndLaterOnesAreAnsweredFromMemory() throws Exception {
    try (TestServer first = TestServer.start(dataDir)) {
      first.call(QueryServiceGrpcClient.ExecuteQuery, request(set("cold", "key", "on disk"))).ok();
    }
    // Reopened, the store has the value in files only (the block cache starts empty) or, for a moment after
    // recovery, in a table still being written out.
    try (TestServer second = TestServer.start(dataDir)) {
      double answered = second.metric(ANSWERED);
      double declined = second.metric(DECLINED);
      assertThat(readCold(second)).isEqualTo("on disk");
      assertThat(second.metric(DECLINED)).as("the first read needed the disk").isEqualTo(declined + 1);
      assertThat(second.metric(ANSWERED)).isEqualTo(answered);

      // The reader brought the blocks it read into the cache: reads come to be answered inline, always right.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (second.metric(ANSWERED) == answered && System.nanoTime() < deadline) {
        assertThat(readCold(second)).isEqualTo("on disk");
      }
      assertThat(second.metric(ANSWERED)).as("a read answered from memory").isGreaterThan(answered);
    }
  }

  private static String readCold(TestServer server) throws Exception {
    return server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("cold", "key"))).ok().getResult().getGet()
        .getKv().getValue().toStringUtf8();
  }

  @Test
  void withABudgetOfZeroEveryReadGoesToAReader() throws Exception {
    try (TestServer server = TestServer.start(dataDir, "storage.inline-read-keys=0")) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("off", "key", "value"))).ok();
      QueryResponse read = server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("off", "key"))).ok();
      assertThat(read.getResult().getGet().getKv().getValue().toStringUtf8()).isEqualTo("value");
      assertThat(server.metric(ANSWERED)).isZero();
      assertThat(server.metric(DECLINED)).as("nothing is even offered").isZero();
    }
  }
}
