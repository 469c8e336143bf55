package io.cairn.front;

import io.cairn.TestServer;
import io.cairn.TestServer.Reply;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.BatchResponse;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.SetQuery;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.cairn.Queries.batch;
import static io.cairn.Queries.delete;
import static io.cairn.Queries.get;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/** ExecuteBatch: atomic, one revision, reads see the batch's earlier writes. */
class BatchTest {

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start("limits.max-batch-ops=8");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static long currentRevision() throws Exception {
    return server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("any", "k"))).ok().getHeader().getRevision();
  }

  @Test
  void aBatchIsOneRevisionAndReadsSeeItsEarlierWrites() throws Exception {
    long before = currentRevision();
    BatchResponse response = server.call(QueryServiceGrpcClient.ExecuteBatch, batch(
        set("orders", "1", "new"),
        set("orders", "2", "new"),
        get("orders", "1"),
        delete("orders", "2"),
        range("orders", "", "", 0))).ok();
    assertThat(response.getHeader().getRevision()).isEqualTo(before + 1);
    assertThat(response.getResultsCount()).isEqualTo(5);
    assertThat(response.getResults(0).getSet().getKv().getModRevision()).isEqualTo(before + 1);
    assertThat(response.getResults(1).getSet().getKv().getModRevision()).isEqualTo(before + 1);
    assertThat(response.getResults(2).getGet().getKv().getValue().toStringUtf8()).isEqualTo("new");
    assertThat(response.getResults(3).getDelete().getDeleted()).isEqualTo(1);
    assertThat(response.getResults(4).getRange().getKvsList())
        .extracting(kv -> kv.getKey().toStringUtf8()).containsExactly("1");
  }

  @Test
  void aFailingBatchChangesNothing() throws Exception {
    long before = currentRevision();
    BatchRequest bad = batch(
        set("atomic", "a", "1"),
        set("atomic", "b", "2"),
        Query.newBuilder().setSet(SetQuery.newBuilder().setCollection("atomic")).build());
    Reply<BatchResponse> reply = server.call(QueryServiceGrpcClient.ExecuteBatch, bad);
    assertThat(reply.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(reply.message()).isEqualTo("queries[2].set.key: must not be empty");
    assertThat(currentRevision()).isEqualTo(before);
    assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(range("atomic", "", "", 0))).ok()
        .getResult().getRange().getKvsCount()).isZero();
  }

  @Test
  void aReadOnlyBatchReadsOneConsistentRevision() throws Exception {
    server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("ro", "x", "1"))).ok();
    BatchResponse response = server.call(QueryServiceGrpcClient.ExecuteBatch,
        batch(get("ro", "x"), range("ro", "", "", 0))).ok();
    assertThat(response.getResults(0).getGet().getFound()).isTrue();
    assertThat(response.getResults(1).getRange().getKvsCount()).isEqualTo(1);
    assertThat(response.getHeader().getRevision()).isGreaterThanOrEqualTo(
        response.getResults(0).getGet().getKv().getModRevision());
  }

  @Test
  void tooManyQueriesOrNoneAreRefused() throws Exception {
    Query[] nine = new Query[9];
    for (int i = 0; i < nine.length; i++) {
      nine[i] = set("big", "k" + i, "v");
    }
    Reply<BatchResponse> tooMany = server.call(QueryServiceGrpcClient.ExecuteBatch, batch(nine));
    assertThat(tooMany.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(tooMany.message()).isEqualTo(
        "queries: the batch has 9 queries; the limit is 8 (limits.max-batch-ops)");

    Reply<BatchResponse> empty = server.call(QueryServiceGrpcClient.ExecuteBatch, batch());
    assertThat(empty.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(empty.message()).contains("the batch is empty");
  }
}
