package io.cairn.front.query;

import io.cairn.TestServer;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.FieldPredicate.Operator;
import io.cairn.proto.v1.FilterQuery;
import io.cairn.proto.v1.GetQuery;
import io.cairn.proto.v1.ProtocolVersion;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.StreamResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import static io.cairn.Queries.batch;
import static io.cairn.Queries.bytes;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** ExecuteStream over real gRPC: a large range in order from one revision, backpressure, cancellation. */
class StreamTest {

  private static final int KEYS = 100_000;
  private static final int BIG_VALUES = 1000;
  private static final int BIG_VALUE_SIZE = 32 * 1024;

  private static TestServer server;
  private static GrpcClient client;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    client = server.newClient();
    List<BatchRequest> batches = new ArrayList<>();
    for (int b = 0; b < KEYS / 100; b++) {
      int first = b * 100;
      batches.add(batch(IntStream.range(first, first + 100)
          .mapToObj(i -> set("many", String.format("k%06d", i), "value of " + i)).toArray(Query[]::new)));
    }
    for (int b = 0; b < BIG_VALUES / 25; b++) {
      int first = b * 25;
      batches.add(batch(IntStream.range(first, first + 25)
          .mapToObj(i -> set("big", String.format("b%04d", i), String.valueOf((char) ('a' + i % 26))
              .repeat(BIG_VALUE_SIZE))).toArray(Query[]::new)));
    }
    for (int i = 0; i < batches.size(); i += 500) {
      assertThat(server.callAll(QueryServiceGrpcClient.ExecuteBatch,
          batches.subList(i, Math.min(i + 500, batches.size())))).allMatch(r -> r.status() == GrpcStatus.OK);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.close();
  }

  /** What one stream delivered. */
  record Received(List<StreamResponse> messages, GrpcStatus status, String statusMessage) {
    List<String> keys() {
      List<String> keys = new ArrayList<>();
      for (StreamResponse m : messages) {
        m.getChunk().getKvsList().forEach(kv -> keys.add(kv.getKey().toStringUtf8()));
      }
      return keys;
    }

    StreamResponse last() {
      return messages.get(messages.size() - 1);
    }
  }

  /** A stream call whose messages are collected; {@code onFirst} runs on the first message. */
  private static Future<Received> stream(QueryRequest query, java.util.function.BiConsumer<
      GrpcClientRequest<QueryRequest, StreamResponse>, GrpcClientResponse<QueryRequest, StreamResponse>> onFirst) {
    return stream(client, server.grpcAddress(), query, onFirst);
  }

  private static Future<Received> stream(GrpcClient client, SocketAddress address, QueryRequest query,
      java.util.function.BiConsumer<GrpcClientRequest<QueryRequest, StreamResponse>,
          GrpcClientResponse<QueryRequest, StreamResponse>> onFirst) {
    List<StreamResponse> messages = new CopyOnWriteArrayList<>();
    Promise<Received> done = Promise.promise();
    client.request(address, QueryServiceGrpcClient.ExecuteStream).onSuccess(call -> {
      call.end(query);
      call.response().onSuccess(response -> {
        response.handler(m -> {
          messages.add(m);
          if (messages.size() == 1 && onFirst != null) {
            onFirst.accept(call, response);
          }
        });
        response.endHandler(v -> done.tryComplete(new Received(messages, response.status(),
            response.statusMessage())));
        response.exceptionHandler(e -> done.tryComplete(new Received(messages, response.status(),
            String.valueOf(e))));
      }).onFailure(done::tryFail);
    }).onFailure(done::tryFail);
    return done.future();
  }

  @Test
  void streamingAHundredThousandKeysReturnsEachOnceInOrderFromOneRevision() throws Exception {
    long[] concurrentWrite = new long[1];
    Received received = await(stream(request(range("many", "", "", 0)), (call, response) -> {
      // Writers go on while the stream runs; none of their changes may show up in it.
      server.callAsync(QueryServiceGrpcClient.ExecuteBatch, batch(set("many", "k000000", "changed"),
          set("many", "k050000x", "new"), set("many", "zzz", "new")), 0)
          .onSuccess(r -> concurrentWrite[0] = r.ok().getHeader().getRevision());
    }));
    assertThat(received.status()).isEqualTo(GrpcStatus.OK);
    List<String> keys = received.keys();
    assertThat(keys).hasSize(KEYS);
    assertThat(keys).isSorted().doesNotHaveDuplicates();
    assertThat(keys.get(0)).isEqualTo("k000000");
    assertThat(keys.get(KEYS - 1)).isEqualTo("k099999");
    StreamResponse end = received.last();
    assertThat(end.hasEnd()).isTrue();
    assertThat(end.getEnd().getTotalCount()).isEqualTo(KEYS);
    long revision = end.getHeader().getRevision();
    assertThat(received.messages()).allMatch(m -> m.getHeader().getRevision() == revision);
    assertThat(received.messages().stream().mapToLong(StreamResponse::getSequence))
        .containsExactlyElementsOf(IntStream.range(0, received.messages().size()).mapToObj(i -> (long) i).toList());
    assertThat(received.messages().get(0).getChunk().getKvs(0).getValue().toStringUtf8()).isEqualTo("value of 0");
    assertThat(concurrentWrite[0]).as("the concurrent write landed after the stream's view").isGreaterThan(revision);
  }

  @Test
  void aClientThatStopsReadingStopsTheScan() throws Exception {
    double before = server.metric("cairn_stream_read_bytes_total");
    GrpcClientResponse<?, ?>[] paused = new GrpcClientResponse[1];
    Future<Received> streaming = stream(request(range("big", "", "", 0)), (call, response) -> {
      response.pause();
      paused[0] = response;
    });
    long total = (long) BIG_VALUES * BIG_VALUE_SIZE;
    try {
      double readWhilePaused = settledReadBytes() - before;
      // What was read sits in the client's buffer or in HTTP/2 flow-control windows: not the whole result.
      assertThat(readWhilePaused).as("bytes read from storage while the client holds back, of " + total)
          .isLessThan(8 << 20);
    } finally {
      server.clientVertx().runOnContext(v -> paused[0].resume());
    }
    Received received = await(streaming);
    assertThat(received.status()).isEqualTo(GrpcStatus.OK);
    assertThat(received.keys()).hasSize(BIG_VALUES).isSorted().doesNotHaveDuplicates();
    assertThat(received.last().getEnd().getTotalCount()).isEqualTo(BIG_VALUES);
    assertThat(server.metric("cairn_stream_read_bytes_total") - before).isGreaterThanOrEqualTo(total);
    assertThat(server.awaitMetric("cairn_stream_waiting", v -> v == 0)).isZero();
  }

  /**
   * The stream's read-bytes count once the server has stopped reading for a paused client: the stream waits for
   * the client and the count has not moved over the last five reads of /metrics.
   */
  private static double settledReadBytes() throws Exception {
    double last = -1;
    int unchanged = 0;
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (unchanged < 5) {
      assertThat(System.nanoTime()).as("the stream settles within 60 s").isLessThan(deadline);
      java.util.Map<String, Double> m = server.metrics("cairn_stream_waiting", "cairn_stream_read_bytes_total");
      double now = m.get("cairn_stream_read_bytes_total");
      unchanged = m.get("cairn_stream_waiting") == 1 && now == last ? unchanged + 1 : 0;
      last = now;
    }
    return last;
  }

  @Test
  void cancellingTheCallStopsTheScanAndReleasesItsView() throws Exception {
    double before = server.metric("cairn_stream_read_bytes_total");
    Promise<Void> cancelled = Promise.promise();
    stream(request(range("big", "", "", 0)), (call, response) -> {
      call.cancel();
      cancelled.complete();
    });
    await(cancelled.future());
    server.awaitMetric("cairn_storage_cursors", v -> v == 0);
    server.awaitMetric("cairn_stream_active", v -> v == 0);
    server.awaitMetric("cairn_rpc_inflight", v -> v == 0);
    assertThat(server.metric("cairn_stream_read_bytes_total") - before)
        .as("bytes read for a stream cancelled after its first chunk")
        .isLessThan((long) BIG_VALUES * BIG_VALUE_SIZE / 4);
  }

  /**
   * A stream whose client takes nothing for {@code stream.idle-timeout} is reset: an error status would wait behind
   * the chunks not taken, which would hold their memory and their share of {@code stream.max-front-bytes}.
   */
  @Test
  void aStreamWhoseClientTakesNothingForTheIdleTimeoutIsReset() throws Exception {
    try (TestServer idle = TestServer.start("stream.idle-timeout=1s")) {
      for (int b = 0; b < 8; b++) {
        int first = b * 16;
        idle.call(QueryServiceGrpcClient.ExecuteBatch, batch(IntStream.range(first, first + 16)
            .mapToObj(i -> set("idle", String.format("i%03d", i), "x".repeat(64 * 1024))).toArray(Query[]::new)))
            .ok();
      }
      GrpcClient idleClient = idle.newClient();
      Promise<GrpcClientResponse<QueryRequest, StreamResponse>> paused = Promise.promise();
      Promise<Object> outcome = Promise.promise();
      idleClient.request(idle.grpcAddress(), QueryServiceGrpcClient.ExecuteStream).onSuccess(call -> {
        call.end(request(range("idle", "", "", 0)));
        call.response().onSuccess(response -> {
          response.pause();
          response.handler(m -> { });
          response.endHandler(v -> outcome.tryComplete(response.status()));
          response.exceptionHandler(outcome::tryComplete);
          paused.complete(response);
        });
      });
      GrpcClientResponse<QueryRequest, StreamResponse> response = await(paused.future());
      idle.awaitMetric("cairn_stream_active", v -> v == 0);
      assertThat(idle.awaitMetric("cairn_storage_cursors", v -> v == 0)).isZero();
      assertThat(idle.awaitMetric("cairn_stream_held_bytes", v -> v == 0)).as("chunks never taken, dropped").isZero();
      idle.clientVertx().runOnContext(v -> response.resume());
      assertThat(await(outcome.future())).as("what the client sees").isInstanceOf(HttpClosedException.class);
      idleClient.close();
    }
  }

  /**
   * {@code stream.max-front-bytes} bounds what the ExecuteStream calls of a front hold together. Eight streams whose
   * client stopped reading hold at most the front's 256 KiB between them and read little more than that (each read
   * on until sixteen chunks waited in Vert.x's queue before); the rest wait for room. A stream whose client reads
   * waits behind them until the idle timeout has ended them, then gets every value.
   */
  @Test
  void theStreamsOfAFrontTogetherHoldAtMostItsBoundAndAReadingClientGetsEverything() throws Exception {
    int bound = 256 * 1024;
    try (TestServer bounded = TestServer.start("front.instances=1", "stream.max-front-bytes=" + bound,
        "stream.chunk-bytes=16384", "limits.max-value-size=32768", "stream.idle-timeout=3s")) {
      int values = 64;
      for (int b = 0; b < values / 16; b++) {
        int first = b * 16;
        bounded.call(QueryServiceGrpcClient.ExecuteBatch, batch(IntStream.range(first, first + 16)
            .mapToObj(i -> set("held", String.format("h%03d", i), "x".repeat(16 * 1024))).toArray(Query[]::new)))
            .ok();
      }
      HttpClient stalledClient = bounded.clientVertx().createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      QueryRequest everything = request(range("held", "", "", 0));
      Buffer body = Buffer.buffer().appendByte((byte) 0).appendInt(everything.getSerializedSize())
          .appendBytes(everything.toByteArray());
      for (int i = 0; i < 8; i++) {
        HttpClientRequest call = await(stalledClient.request(HttpMethod.POST, bounded.grpcPort(), "127.0.0.1",
            "/cairn.v1.QueryService/ExecuteStream"));
        call.putHeader("content-type", "application/grpc").putHeader("te", "trailers");
        call.response().onSuccess(HttpClientResponse::pause);
        await(call.end(body));
      }
      bounded.awaitMetric("cairn_stream_waiting_room", v -> v >= 1);
      assertThat(bounded.metric("cairn_stream_held_bytes")).as("chunks the stalled clients have not taken")
          .isPositive().isLessThanOrEqualTo(bound);
      assertThat(bounded.metric("cairn_stream_read_bytes_total")).as("bytes the stalled streams read")
          .isLessThanOrEqualTo(2 * bound);

      GrpcClient readingClient = bounded.newClient();
      Received reading = await(stream(readingClient, bounded.grpcAddress(), everything, null));
      assertThat(reading.status()).isEqualTo(GrpcStatus.OK);
      assertThat(reading.keys()).hasSize(values).isSorted();
      bounded.awaitMetric("cairn_stream_active", v -> v == 0);
      assertThat(bounded.metric("cairn_stream_held_bytes")).isZero();
      assertThat(bounded.metric("cairn_stream_waiting_room")).isZero();
      await(stalledClient.close());
      await(readingClient.close());
    }
  }

  @Test
  void filtersStreamWithOffsetAndLimit() throws Exception {
    QueryRequest filter = request(Query.newBuilder().setFilter(FilterQuery.newBuilder().setCollection("many")
        .setWhere(FilterUpdateTest.or(io.cairn.proto.v1.Predicate.newBuilder().setValuePrefix(bytes("value of 7"))
            .build(), FilterUpdateTest.field("x", Operator.OPERATOR_EXISTS)))
        .setOffset(5).setLimit(1200)).build());
    Received received = await(stream(filter, null));
    assertThat(received.status()).isEqualTo(GrpcStatus.OK);
    List<String> keys = received.keys();
    assertThat(keys).hasSize(1200).isSorted();
    assertThat(keys.get(0)).as("matches go 7, 70, 71, ...: the sixth one").isEqualTo("k000074");
    assertThat(received.last().getEnd().getTotalCount()).isEqualTo(1200);
  }

  @Test
  void anEmptyRangeEndsAtOnceAndOtherQueriesAreRefused() throws Exception {
    Received empty = await(stream(request(range("nothing-here", "", "", 0)), null));
    assertThat(empty.status()).isEqualTo(GrpcStatus.OK);
    assertThat(empty.messages()).hasSize(1);
    assertThat(empty.last().getEnd().getTotalCount()).isZero();
    assertThat(empty.last().getSequence()).isZero();

    Received get = await(stream(request(Query.newBuilder().setGet(GetQuery.newBuilder().setCollection("many")
        .setKey(bytes("k1"))).build()), null));
    assertThat(get.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(get.statusMessage()).isEqualTo("query: ExecuteStream serves range and filter queries; send a get "
        + "query to ExecuteQuery");

    Received future = await(stream(request(range("many", "", "", 0)).toBuilder()
        .setProtocolVersion(ProtocolVersion.newBuilder().setMajor(2)).build(), null));
    assertThat(future.status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(future.statusMessage()).contains("1.0, 1.1");
  }
}
