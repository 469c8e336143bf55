package io.cairn.front;

import com.google.protobuf.ByteString;
import io.cairn.TestServer;
import io.cairn.TestServer.Reply;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.DeleteRangeResponse;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.RangeResponse;
import io.cairn.proto.etcd.RequestOp;
import io.cairn.proto.etcd.TxnRequest;
import io.cairn.proto.etcd.TxnResponse;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.Query;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static io.cairn.Queries.get;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Past its bounds the server answers RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED, keeps serving, and loses nothing. */
class OverloadTest {

  @Test
  void aConnectionPastItsInflightBoundGetsResourceExhausted() throws Exception {
    try (TestServer server = TestServer.start("front.instances=1", "front.max-inflight-per-connection=2")) {
      List<QueryRequest> burst = IntStream.range(0, 200).mapToObj(i -> request(set("burst", "k" + i, "v"))).toList();
      List<Reply<QueryResponse>> replies = server.callAll(QueryServiceGrpcClient.ExecuteQuery, burst);

      List<Reply<QueryResponse>> refused = replies.stream()
          .filter(r -> r.status() == GrpcStatus.RESOURCE_EXHAUSTED).toList();
      assertThat(refused).isNotEmpty();
      assertThat(refused.get(0).message()).contains("front.max-inflight-per-connection");
      assertThat(replies).allMatch(r -> r.status() == GrpcStatus.OK || r.status() == GrpcStatus.RESOURCE_EXHAUSTED);

      // every acknowledged write is there
      for (int i = 0; i < burst.size(); i++) {
        if (replies.get(i).status() == GrpcStatus.OK) {
          assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("burst", "k" + i))).ok()
              .getResult().getGet().getFound()).isTrue();
        }
      }
    }
  }

  @Test
  void requestBytesPastTheBoundGetResourceExhaustedAndNothingIsLost() throws Exception {
    try (TestServer server = TestServer.start("front.max-inflight-bytes=500000", "storage.group-commit-max=1")) {
      String value = "v".repeat(200_000); // the test client reads messages up to 256 KiB
      List<QueryRequest> burst = IntStream.range(0, 50).mapToObj(i -> request(set("bytes", "k" + i, value))).toList();
      List<Reply<QueryResponse>> replies = server.callAll(QueryServiceGrpcClient.ExecuteQuery, burst);

      List<Reply<QueryResponse>> refused = replies.stream()
          .filter(r -> r.status() == GrpcStatus.RESOURCE_EXHAUSTED).toList();
      assertThat(refused).as("refused past 500 kB of requests in flight").isNotEmpty();
      assertThat(refused.get(0).message()).contains("bytes of requests and answers in flight", "front.max-inflight-bytes");
      assertThat(replies).allMatch(r -> r.status() == GrpcStatus.OK || r.status() == GrpcStatus.RESOURCE_EXHAUSTED)
          .anyMatch(r -> r.status() == GrpcStatus.OK);
      for (int i = 0; i < burst.size(); i++) {
        boolean found = server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("bytes", "k" + i))).ok()
            .getResult().getGet().getFound();
        assertThat(found).as("k%d stored exactly when acknowledged", i)
            .isEqualTo(replies.get(i).status() == GrpcStatus.OK);
      }
      assertThat(server.metric("cairn_rpc_inflight_bytes")).as("every admitted request's bytes given back")
          .isZero();
    }
  }

  /**
   * A message being received is buffered whole, so it counts against {@code front.max-inflight-bytes} from the
   * moment its length (the first 5 bytes of the body) arrives, not once it is complete: while 1 kB of an announced
   * 900 kB put has arrived, a 200 kB put is refused at once, and the first completes.
   */
  @Test
  void aRequestCountsAgainstTheByteBoundFromTheMomentItsLengthArrives() throws Exception {
    try (TestServer server = TestServer.start("front.instances=1", "front.max-inflight-bytes=1000000")) {
      HttpClient http = http2(server);
      PartialPut partial = PartialPut.start(server, http, 900_000);

      Reply<?> refused = server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("next"))
          .setValue(ByteString.copyFrom(new byte[200_000])).build());
      assertThat(refused.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(refused.message()).contains("bytes of requests and answers in flight", "front.max-inflight-bytes = 1000000");

      assertThat(partial.finish().getTrailer("grpc-status")).isEqualTo("0");
      assertThat(server.call(KVGrpcClient.Range, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(
          "announced")).setCountOnly(true).build()).ok().getCount()).isEqualTo(1);
      assertThat(server.awaitMetric("cairn_rpc_inflight_bytes", v -> v == 0)).isZero();
      http.close();
    }
  }

  /**
   * The queries of an interactive session count under the same bound from the moment each one's length arrives
   * until it is answered. One that does not fit is not refused: the session is not read until the front has room,
   * and then goes on.
   */
  @Test
  void anInteractiveQueryPastTheByteBoundWaitsForRoomAndIsThenAnswered() throws Exception {
    try (TestServer server = TestServer.start("front.instances=1", "front.max-inflight-bytes=1000000")) {
      HttpClient http = http2(server);
      PartialPut partial = PartialPut.start(server, http, 900_000);

      GrpcClient client = server.newClient();
      Future<List<QueryResponse>> session = client.request(server.grpcAddress(),
          QueryServiceGrpcClient.ExecuteInteractive).compose(call -> {
            call.write(request(set("room", "big", "b".repeat(200_000))));
            call.end();
            return call.response().compose(response -> response.collect(java.util.stream.Collectors.toList()));
          });
      server.awaitMetric("cairn_rpc_streams_waiting", v -> v == 1);
      assertThat(server.metrics("cairn_interactive_inflight", "cairn_rpc_inflight_bytes"))
          .as("the query is not read, its length not counted").containsEntry("cairn_interactive_inflight", 0.0)
          .containsEntry("cairn_rpc_inflight_bytes", (double) partial.size());

      assertThat(partial.finish().getTrailer("grpc-status")).isEqualTo("0");
      List<QueryResponse> answers = TestServer.await(session);
      assertThat(answers).hasSize(1);
      assertThat(answers.get(0).hasError()).as("%s", answers.get(0)).isFalse();
      assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("room", "big"))).ok()
          .getResult().getGet().getKv().getValue().size()).isEqualTo(200_000);
      assertThat(server.metrics("cairn_rpc_streams_waiting", "cairn_rpc_inflight_bytes"))
          .containsEntry("cairn_rpc_streams_waiting", 0.0).containsEntry("cairn_rpc_inflight_bytes", 0.0);
      client.close();
      http.close();
    }
  }

  /**
   * An answer counts under the same bound until it has been sent: a client that does not read its answers kept
   * them on the heap, and 200 concurrent range reads of 10 MB from one such client ran a 512 MiB heap out, each
   * read within {@code storage.max-read-bytes}. A read whose answer does not fit waits and runs again once there is
   * room, within its deadline; one answer always goes out when no other waits.
   */
  @Test
  void aReadWaitsWhileAnswersTheirClientsHaveNotTakenFillTheByteBound() throws Exception {
    try (TestServer server = TestServer.start("front.instances=1", "front.max-inflight-bytes=1000000")) {
      ByteString value = ByteString.copyFrom(new byte[100_000]);
      for (int i = 0; i < 8; i++) {
        server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("answer/" + i))
            .setValue(value).build()).ok();
        server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("answers", "k" + i, "v".repeat(100_000)))).ok();
      }
      RangeRequest all = RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("answer/"))
          .setRangeEnd(ByteString.copyFromUtf8("answer0")).build();
      HttpClient http = http2(server);
      HttpClientRequest unread = post(server, http, "/etcdserverpb.KV/Range");
      Future<HttpClientResponse> paused = unread.response().map(response -> response.pause());
      TestServer.await(unread.end(frame(all)));
      HttpClientResponse waiting = TestServer.await(paused);
      server.awaitMetric("cairn_rpc_inflight_bytes", v -> v > 800_000);

      HttpClientRequest second = post(server, http, "/etcdserverpb.KV/Range");
      Future<HttpClientResponse> secondRead = second.response().compose(r -> r.body().map(b -> r));
      TestServer.await(second.end(frame(all)));
      server.awaitMetric("cairn_rpc_reads_waiting", v -> v == 1);
      assertThat(server.call(KVGrpcClient.Range, all.toBuilder().setKeysOnly(true).build()).ok().getKvsCount())
          .as("a small answer fits").isEqualTo(8);
      // the request's own timeout: vertx-grpc itself ends a call at its gRPC deadline, with no message
      Reply<QueryResponse> late = server.call(QueryServiceGrpcClient.ExecuteQuery, request(range("answers", "", "",
          100)).toBuilder().setTimeoutMs(300).build());
      assertThat(late.status()).isEqualTo(GrpcStatus.DEADLINE_EXCEEDED);
      assertThat(late.message()).contains("waited for room", "front.max-inflight-bytes = 1000000");
      assertThat(secondRead.isComplete()).as("the second read still waits").isFalse();

      Future<Buffer> body = waiting.body();
      server.clientVertx().runOnContext(v -> waiting.resume());
      assertThat(TestServer.await(body).length()).isGreaterThan(800_000);
      assertThat(waiting.getTrailer("grpc-status")).isEqualTo("0");
      HttpClientResponse answered = TestServer.await(secondRead);
      assertThat(answered.getTrailer("grpc-status")).as("once the first has gone").isEqualTo("0");
      server.awaitMetric("cairn_rpc_inflight_bytes", v -> v == 0);
      assertThat(server.metric("cairn_rpc_reads_waiting")).isZero();
      http.close();
    }
  }

  /** The same for the answers of an interactive session: a read's answer past the bound becomes an error answer. */
  @Test
  void anInteractiveReadsAnswerPastTheByteBoundIsRefusedAndTheSessionGoesOn() throws Exception {
    try (TestServer server = TestServer.start("front.instances=1", "front.max-inflight-bytes=1000000")) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("answers", "big", "b".repeat(400_000)))).ok();
      HttpClient http = http2(server);
      HttpClientRequest session = post(server, http, "/cairn.v1.QueryService/ExecuteInteractive");
      Future<HttpClientResponse> paused = session.response().map(response -> response.pause());
      Buffer queries = Buffer.buffer();
      for (int i = 0; i < 3; i++) {
        QueryRequest get = request(get("answers", "big")).toBuilder().setRequestId("get-" + i).build();
        queries.appendBuffer(frame(get));
      }
      TestServer.await(session.end(queries));
      HttpClientResponse waiting = TestServer.await(paused);
      server.awaitMetric("cairn_rpc_inflight_bytes", v -> v > 800_000);

      Future<Buffer> body = waiting.body();
      server.clientVertx().runOnContext(v -> waiting.resume());
      Buffer frames = TestServer.await(body);
      List<QueryResponse> answers = new java.util.ArrayList<>();
      for (int at = 0; at < frames.length(); at += 5 + frames.getInt(at + 1)) {
        answers.add(QueryResponse.parseFrom(frames.getBytes(at + 5, at + 5 + frames.getInt(at + 1))));
      }
      assertThat(answers).extracting(QueryResponse::getRequestId).containsExactly("get-0", "get-1", "get-2");
      assertThat(answers.get(0).getResult().getGet().getKv().getValue().size()).isEqualTo(400_000);
      assertThat(answers.get(1).getResult().getGet().getKv().getValue().size()).isEqualTo(400_000);
      assertThat(answers.get(2).getError().getStatus()).isEqualTo("RESOURCE_EXHAUSTED");
      assertThat(answers.get(2).getError().getMessage()).contains("wait for their clients to take them");
      assertThat(waiting.getTrailer("grpc-status")).isEqualTo("0");
      server.awaitMetric("cairn_rpc_inflight_bytes", v -> v == 0);
      http.close();
    }
  }

  /** A plain HTTP/2 client (prior knowledge, no upgrade), to send and read gRPC bodies as a test needs. */
  private static HttpClient http2(TestServer server) {
    return server.clientVertx().createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
  }

  /** A gRPC call on a plain HTTP/2 request, to send and read its body as the test needs. */
  private static HttpClientRequest post(TestServer server, HttpClient http, String path) throws Exception {
    HttpClientRequest request = TestServer.await(http.request(HttpMethod.POST, server.grpcPort(), "127.0.0.1", path));
    return request.putHeader("content-type", "application/grpc").putHeader("te", "trailers");
  }

  /** The message with its gRPC prefix: not compressed, then its length. */
  private static Buffer frame(com.google.protobuf.MessageLite message) {
    return Buffer.buffer().appendByte((byte) 0).appendInt(message.getSerializedSize())
        .appendBytes(message.toByteArray());
  }

  /** A put whose length and first 1,000 bytes have been sent, the rest held back until {@link #finish}. */
  private record PartialPut(HttpClientRequest request, Buffer body, Future<HttpClientResponse> answered) {

    static PartialPut start(TestServer server, HttpClient http, int valueBytes) throws Exception {
      PutRequest large = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("announced"))
          .setValue(ByteString.copyFrom(new byte[valueBytes])).build();
      Buffer body = frame(large);
      HttpClientRequest request = post(server, http, "/etcdserverpb.KV/Put").setChunked(true);
      Future<HttpClientResponse> answered = request.response().compose(r -> r.body().map(b -> r));
      TestServer.await(request.write(body.slice(0, 1000)));
      server.awaitMetric("cairn_rpc_inflight_bytes", v -> v == large.getSerializedSize());
      return new PartialPut(request, body, answered);
    }

    long size() {
      return body.length() - 5;
    }

    HttpClientResponse finish() throws Exception {
      TestServer.await(request.end(body.slice(1000, body.length())));
      return TestServer.await(answered);
    }
  }

  @Test
  void aRangeGatheringMoreThanTheReadBoundGetsResourceExhaustedAndPagesStillWork() throws Exception {
    try (TestServer server = TestServer.start("storage.max-read-bytes=100000")) {
      ByteString value = ByteString.copyFromUtf8("v".repeat(30_000));
      for (int i = 0; i < 5; i++) {
        server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("wide/" + i))
            .setValue(value).build()).ok();
      }
      RangeRequest all = RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("wide/"))
          .setRangeEnd(ByteString.copyFromUtf8("wide0")).build();
      Reply<RangeResponse> refused = server.call(KVGrpcClient.Range, all);
      assertThat(refused.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(refused.message()).contains("more than 100000 bytes", "storage.max-read-bytes");

      RangeResponse page = server.call(KVGrpcClient.Range, all.toBuilder().setLimit(2).build()).ok();
      assertThat(page.getKvsCount()).isEqualTo(2);
      assertThat(page.getMore()).isTrue();
      assertThat(server.call(KVGrpcClient.Range, all.toBuilder().setKeysOnly(true).build()).ok().getKvsCount())
          .as("keys alone fit").isEqualTo(5);

      // two ranges of two values each fit alone (60 kB), not together in one transaction
      RequestOp firstTwo = RequestOp.newBuilder().setRequestRange(all.toBuilder().setLimit(2)).build();
      Reply<TxnResponse> txn = server.call(KVGrpcClient.Txn, TxnRequest.newBuilder()
          .addSuccess(firstTwo).addSuccess(firstTwo).build());
      assertThat(txn.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(txn.message()).contains("storage.max-read-bytes");

      // a delete holds what it removes for watchers of previous values: the same bound, refused before any change
      DeleteRangeRequest deleteAll = DeleteRangeRequest.newBuilder().setKey(all.getKey())
          .setRangeEnd(all.getRangeEnd()).build();
      Reply<DeleteRangeResponse> tooWide = server.call(KVGrpcClient.DeleteRange, deleteAll);
      assertThat(tooWide.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(tooWide.message()).contains("storage.max-read-bytes", "smaller pieces");
      assertThat(server.call(KVGrpcClient.Range, all.toBuilder().setCountOnly(true).build()).ok().getCount())
          .as("nothing deleted").isEqualTo(5);
      assertThat(server.call(KVGrpcClient.DeleteRange, deleteAll.toBuilder()
          .setRangeEnd(ByteString.copyFromUtf8("wide/2")).build()).ok().getDeleted()).isEqualTo(2);

      // one value larger than the whole bound can still be read and deleted
      ByteString huge = ByteString.copyFromUtf8("h".repeat(150_000));
      server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("huge")).setValue(huge)
          .build()).ok();
      assertThat(server.call(KVGrpcClient.Range, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("huge"))
          .build()).ok().getKvs(0).getValue().size()).isEqualTo(150_000);
      assertThat(server.call(KVGrpcClient.DeleteRange, DeleteRangeRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("huge")).build()).ok().getDeleted()).isEqualTo(1);
    }
  }

  @Test
  void connectionsPastTheBoundAreClosedWhileTheOthersAreServed() throws Exception {
    try (TestServer server = TestServer.start("front.max-connections=2")) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("conn", "first", "1"))).ok();
      GrpcClient second = server.newClient();
      GrpcClient third = server.newClient();
      GrpcClient fourth = server.newClient();
      try {
        assertThat(TestServer.await(query(server, second, set("conn", "second", "2"))).getHeader().getRevision())
            .isPositive();
        assertThatThrownBy(() -> TestServer.await(query(server, third, set("conn", "third", "3"))))
            .as("a third connection is closed as it comes");
        assertThat(server.metric("cairn_front_connections")).isEqualTo(2);
        assertThat(server.metric("cairn_front_connections_refused_total")).isEqualTo(1);

        TestServer.await(second.close());
        server.awaitMetric("cairn_front_connections", open -> open == 1);
        // a client of its own: the third one's pool may still hold the connection the server closed
        assertThat(TestServer.await(query(server, fourth, set("conn", "fourth", "4"))).getHeader().getRevision())
            .as("once one has gone, a new connection is served").isPositive();
        assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("conn", "first"))).ok()
            .getResult().getGet().getFound()).isTrue();
      } finally {
        second.close();
        third.close();
        fourth.close();
      }
    }
  }

  private static Future<QueryResponse> query(TestServer server, GrpcClient client, Query query) {
    return QueryServiceGrpcClient.create(client, server.grpcAddress()).executeQuery(request(query));
  }

  @Test
  void aFullWriteQueueGetsResourceExhausted() throws Exception {
    try (TestServer server = TestServer.start("storage.max-pending-writes=1", "storage.group-commit-max=1")) {
      List<QueryRequest> burst = IntStream.range(0, 300).mapToObj(i -> request(set("queue", "k" + i, "v"))).toList();
      List<Reply<QueryResponse>> replies = server.callAll(QueryServiceGrpcClient.ExecuteQuery, burst);
      assertThat(replies).anyMatch(r -> r.status() == GrpcStatus.RESOURCE_EXHAUSTED
          && r.message().contains("storage.max-pending-writes"));
      assertThat(replies).anyMatch(r -> r.status() == GrpcStatus.OK);
    }
  }

  @Test
  void timeoutMsTurnsIntoDeadlineExceeded() throws Exception {
    try (TestServer server = TestServer.start("storage.group-commit-max=1")) {
      List<QueryRequest> burst = IntStream.range(0, 300).mapToObj(i -> QueryRequest.newBuilder()
          .setQuery(set("slow", "k" + i, "v")).setTimeoutMs(1).build()).toList();
      List<Reply<QueryResponse>> replies = server.callAll(QueryServiceGrpcClient.ExecuteQuery, burst);
      assertThat(replies).anyMatch(r -> r.status() == GrpcStatus.DEADLINE_EXCEEDED
          && r.message().equals("the request exceeded its deadline of 1 ms; a write may still have been applied"));
      assertThat(replies).allMatch(r -> r.status() == GrpcStatus.OK || r.status() == GrpcStatus.DEADLINE_EXCEEDED);
      QueryRequest echo = QueryRequest.newBuilder().setQuery(get("slow", "k0")).setRequestId("after").build();
      assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, echo).ok().getRequestId()).isEqualTo("after");
    }
  }
}
