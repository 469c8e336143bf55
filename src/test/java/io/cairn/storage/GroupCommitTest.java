package io.cairn.storage;

import io.cairn.TestServer;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Concurrent durable writes share synced write batches, and each still gets its own revision. */
class GroupCommitTest {

  @Test
  void concurrentWritesAreCommittedTogetherWithDistinctRevisions() throws Exception {
    try (TestServer server = TestServer.start("storage.sync=true")) {
      List<QueryRequest> writes = IntStream.range(0, 256).mapToObj(i -> request(set("group", "k" + i, "v"))).toList();
      List<TestServer.Reply<QueryResponse>> replies = server.callAll(QueryServiceGrpcClient.ExecuteQuery, writes);
      assertThat(replies).allMatch(r -> r.status() == GrpcStatus.OK);
      assertThat(replies.stream().map(r -> r.body().getHeader().getRevision()).distinct().count())
          .as("one revision per write request").isEqualTo(256);

      WebClient web = WebClient.create(server.clientVertx());
      HttpResponse<Buffer> metrics = await(web.get(server.httpPort(), "127.0.0.1", "/metrics").send());
      String text = metrics.bodyAsString();
      double batches = value(text, "cairn_storage_group_commit_requests_count");
      double requests = value(text, "cairn_storage_group_commit_requests_sum");
      assertThat(requests).isEqualTo(256);
      assertThat(batches).as("synced write batches for 256 concurrent writes").isLessThan(256);
      assertThat(value(text, "cairn_storage_group_commit_requests_max")).isGreaterThan(1);
      web.close();
    }
  }

  private static double value(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(name.length() + 1))).orElseThrow(() -> new AssertionError(name));
  }
}
