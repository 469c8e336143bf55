package io.cairn;

import com.google.protobuf.ByteString;
import io.cairn.front.GrpcStatusMessage;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.LeaseGrantRequest;
import io.cairn.proto.etcd.LeaseGrpcClient;
import io.cairn.proto.etcd.LeaseKeepAliveRequest;
import io.cairn.proto.etcd.LeaseKeepAliveResponse;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.WatchCreateRequest;
import io.cairn.proto.etcd.WatchGrpcClient;
import io.cairn.proto.etcd.WatchRequest;
import io.cairn.proto.etcd.WatchResponse;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcError;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stopping under load: requests in flight are answered, and every acknowledged write is kept; streams that stay open
 * at their clients' will end at once with a status their clients retry on.
 */
class GracefulStopTest {

  @TempDir
  Path dataDir;

  @Test
  void inFlightWritesFinishAndSurviveTheStop() throws Exception {
    List<Future<TestServer.Reply<QueryResponse>>> inFlight;
    try (TestServer server = TestServer.start(dataDir)) {
      inFlight = IntStream.range(0, 500)
          .mapToObj(i -> server.callAsync(QueryServiceGrpcClient.ExecuteQuery, request(set("stop", "k" + i, "v")), 0))
          .toList();
      // wait until the first write is answered, so the burst is in the server, then stop with the rest in flight
      await(inFlight.get(0));
      await(server.server().stop());
      await(Future.join(inFlight).otherwiseEmpty());
    }
    List<Integer> acknowledged = IntStream.range(0, inFlight.size())
        .filter(i -> inFlight.get(i).succeeded() && inFlight.get(i).result().status() == GrpcStatus.OK)
        .boxed().toList();
    assertThat(acknowledged).isNotEmpty();
    assertThat(inFlight).allSatisfy(f -> assertThat(f.isComplete()).as("every call got an answer").isTrue());

    try (TestServer restarted = TestServer.start(dataDir)) {
      for (int i : acknowledged) {
        assertThat(restarted.call(QueryServiceGrpcClient.ExecuteQuery, request(get("stop", "k" + i))).ok()
            .getResult().getGet().getFound()).as("acknowledged write k" + i).isTrue();
      }
    }
  }

  /**
   * A stream the test drives: its answers, and its status once it ends. It holds its client: Vert.x closes a client
   * that is no longer referenced, and its connection with it.
   */
  private record OpenStream<Req, Resp>(GrpcClient client, GrpcClientRequest<Req, Resp> call,
                                       BlockingQueue<Resp> answers, Future<GrpcClientResponse<Req, Resp>> ended) {
    static <Req, Resp> OpenStream<Req, Resp> open(TestServer server, GrpcClient client,
                                                  ServiceMethod<Resp, Req> method) throws Exception {
      BlockingQueue<Resp> answers = new LinkedBlockingQueue<>();
      Promise<GrpcClientResponse<Req, Resp>> ended = Promise.promise();
      GrpcClientRequest<Req, Resp> call = await(client.request(server.grpcAddress(), method));
      call.response().onSuccess(response -> {
        response.handler(answers::add);
        response.endHandler(v -> {
          call.end(); // as gRPC clients do once they have the status, which closes the stream
          ended.tryComplete(response);
        });
        response.exceptionHandler(ended::tryFail);
      }).onFailure(ended::tryFail);
      return new OpenStream<>(client, call, answers, ended.future());
    }

    /** The status message, which after answers comes in the trailers. */
    String statusMessage() throws Exception {
      return GrpcStatusMessage.received(await(ended));
    }

    Resp next() throws InterruptedException {
      Resp answer = answers.poll(30, TimeUnit.SECONDS);
      assertThat(answer).as("an answer within 30 s").isNotNull();
      return answer;
    }
  }

  @Test
  void watchesKeepAlivesAndSessionsEndAtOnceWhenTheServerStops() throws Exception {
    // With streams left open, the stop would take the whole timeout: longer than the test's 30 s wait.
    try (TestServer server = TestServer.start("shutdown.timeout=10m")) {
      GrpcClient client = server.newClient();
      OpenStream<WatchRequest, WatchResponse> watch = OpenStream.open(server, client, WatchGrpcClient.Watch);
      watch.call().write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("watched"))).build());
      assertThat(watch.next().getCreated()).isTrue();

      long lease = server.call(LeaseGrpcClient.LeaseGrant, LeaseGrantRequest.newBuilder().setTTL(60).build()).ok()
          .getID();
      OpenStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> keepAlive =
          OpenStream.open(server, client, LeaseGrpcClient.LeaseKeepAlive);
      keepAlive.call().write(LeaseKeepAliveRequest.newBuilder().setID(lease).build());
      assertThat(keepAlive.next().getTTL()).isEqualTo(60);

      OpenStream<QueryRequest, QueryResponse> session =
          OpenStream.open(server, client, QueryServiceGrpcClient.ExecuteInteractive);
      session.call().write(request(set("stop", "in-session", "v")));
      assertThat(session.next().hasError()).isFalse();

      server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("watched"))
          .setValue(ByteString.copyFromUtf8("last")).build()).ok();
      assertThat(watch.next().getEvents(0).getKv().getValue().toStringUtf8()).isEqualTo("last");

      await(server.server().stop());

      assertThat(await(watch.ended()).status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      assertThat(watch.statusMessage()).isEqualTo("etcdserver: server stopped");
      assertThat(await(watch.ended()).trailers().getAll("grpc-message"))
          .as("escaped only where gRPC requires, as etcd does").containsExactly("etcdserver: server stopped");
      assertThat(await(keepAlive.ended()).status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      assertThat(keepAlive.statusMessage()).isEqualTo("etcdserver: server stopped");
      assertThat(await(session.ended()).status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      assertThat(session.statusMessage()).startsWith("the server is stopping");
    }
  }

  /**
   * A watch whose client stopped reading has answers waiting for it, and its status would wait behind them, the
   * stop with it: the stream is refused at once instead (gRPC clients see UNAVAILABLE, on which etcd's clients
   * resume their watches, as on the status).
   */
  @Test
  void aWatchWhoseClientStoppedReadingIsRefusedAtOnceWhenTheServerStops() throws Exception {
    try (TestServer server = TestServer.start("shutdown.timeout=10m", "watch.max-backlog-bytes=65536")) {
      OpenStream<WatchRequest, WatchResponse> watch =
          OpenStream.open(server, server.newClient(), WatchGrpcClient.Watch);
      watch.call().write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("stalled"))).build());
      assertThat(watch.next().getCreated()).isTrue();
      GrpcClientResponse<WatchRequest, WatchResponse> response = await(watch.call().response());
      Promise<GrpcError> reset = Promise.promise();
      server.clientVertx().runOnContext(v -> response.errorHandler(reset::tryComplete).pause());
      ByteString value = ByteString.copyFrom(new byte[16 * 1024]);
      for (int i = 0; i < 30; i++) {
        server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("stalled"))
            .setValue(value).build()).ok();
      }
      server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v > 0);

      await(server.server().stop());

      assertThat(await(reset.future())).isEqualTo(GrpcError.UNAVAILABLE);
    }
  }

  /**
   * A client that sent its GOAWAY first (it is leaving, and waits for its streams) holds no stop: the shutdown of
   * its connection has already come and will not come again, so its watch is told as the front stops.
   */
  @Test
  void aWatchOnAConnectionItsClientIsShuttingDownEndsWhenTheServerStops() throws Exception {
    try (TestServer server = TestServer.start("shutdown.timeout=10m")) {
      OpenStream<WatchRequest, WatchResponse> watch =
          OpenStream.open(server, server.newClient(), WatchGrpcClient.Watch);
      watch.call().write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8("watched"))).build());
      assertThat(watch.next().getCreated()).isTrue();
      HttpConnection connection = watch.call().connection();
      Promise<Buffer> pong = Promise.promise();
      server.clientVertx().runOnContext(v -> {
        connection.shutdown(10, TimeUnit.MINUTES);
        // answered after the server has read the GOAWAY sent before it
        connection.ping(Buffer.buffer("12345678")).onComplete(pong);
      });
      await(pong.future());

      await(server.server().stop());

      assertThat(await(watch.ended()).status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      assertThat(watch.statusMessage()).isEqualTo("etcdserver: server stopped");
    }
  }

  @Test
  void aSessionCutShortByTheStopAnswersEveryQueryItRanAndRunsNoOther() throws Exception {
    int sent = 2_000;
    List<QueryResponse> answers;
    try (TestServer server = TestServer.start(dataDir)) {
      OpenStream<QueryRequest, QueryResponse> session =
          OpenStream.open(server, server.newClient(), QueryServiceGrpcClient.ExecuteInteractive);
      for (int i = 0; i < sent; i++) {
        session.call().write(request(set("cut", "k" + i, "v")));
      }
      session.next();
      await(server.server().stop());
      assertThat(await(session.ended()).status()).isEqualTo(GrpcStatus.UNAVAILABLE);
      answers = new ArrayList<>(session.answers());
    }
    assertThat(answers.size() + 1).as("answered before the stop").isLessThan(sent);
    assertThat(answers).allSatisfy(answer -> assertThat(answer.hasError()).isFalse());

    int answered = answers.size() + 1;
    try (TestServer restarted = TestServer.start(dataDir)) {
      for (int i = 0; i < sent; i++) {
        assertThat(restarted.call(QueryServiceGrpcClient.ExecuteQuery, request(get("cut", "k" + i))).ok()
            .getResult().getGet().getFound()).as("k" + i + (i < answered ? ", answered," : ", not answered,")
            + " is stored").isEqualTo(i < answered);
      }
    }
  }
}
