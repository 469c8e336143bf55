package io.cairn.front;

import com.google.protobuf.ByteString;
import io.cairn.TestServer;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** A client that leaves with requests in flight costs the server nothing once their answers are ready. */
class ClientLeavesTest {

  private static final int ROUNDS = 5;
  private static final int REQUESTS_PER_CLIENT = 64;

  @Test
  void requestsOfAClientThatLeftNoLongerCountAgainstTheFront() throws Exception {
    try (TestServer server = TestServer.start("front.instances=1")) {
      Buffer put = grpcFrame(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("left"))
          .setValue(ByteString.copyFromUtf8("v")).build().toByteArray());
      for (int round = 0; round < ROUNDS; round++) {
        HttpClientAgent client = server.clientVertx().createHttpClient(new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
            .setDefaultHost("127.0.0.1").setDefaultPort(server.grpcPort()), new PoolOptions().setHttp2MaxSize(1));
        List<Future<Void>> sent = new ArrayList<>();
        for (int i = 0; i < REQUESTS_PER_CLIENT; i++) {
          sent.add(client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/etcdserverpb.KV/Put"))
              .compose(request -> request.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
                  .end(put)));
        }
        await(Future.all(sent));
        await(client.close()); // gone before the answers
      }

      // Every one of those requests has been answered or dropped: none holds a place under front.max-inflight,
      // and none waits for its 30 s deadline.
      assertThat(server.awaitMetric("cairn_rpc_inflight", v -> v == 0)).isZero();
      assertThat(server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("stayed"))
          .setValue(ByteString.copyFromUtf8("v")).build()).ok().getHeader().getRevision()).isPositive();
    }
  }

  /**
   * A client that stops reading (here: a stream window of zero, so no answer can be sent) and then leaves: its
   * answers are queued inside Vert.x, which (5.0.7) throws a NullPointerException for each queued trailer when the
   * connection closes, and Netty logs that as an ERROR with its stack. A client going away is routine, not an error.
   */
  @Test
  void aClientThatStopsReadingAndLeavesLeavesNoErrorInTheLog() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    try (TestServer server = TestServer.start("front.instances=1")) {
      HttpClientAgent client = server.clientVertx().createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
          .setInitialSettings(new Http2Settings().setInitialWindowSize(0))
          .setDefaultHost("127.0.0.1").setDefaultPort(server.grpcPort()), new PoolOptions().setHttp2MaxSize(1));
      Buffer put = grpcFrame(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("unread"))
          .setValue(ByteString.copyFromUtf8("v")).build().toByteArray());
      List<Future<Void>> sent = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        sent.add(client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/etcdserverpb.KV/Put"))
            .compose(request -> {
              // the answers' headers get through (HEADERS frames take no window); their bodies never come
              request.response().onSuccess(response -> response.exceptionHandler(expectedOnLeaving -> { }));
              return request.putHeader("content-type", "application/grpc").putHeader("te", "trailers").end(put);
            }));
      }
      await(Future.all(sent));
      // every put committed and its answer written (and queued: the client's window takes none of it) before the
      // client leaves
      server.awaitMetric("cairn_storage_revision", v -> v == 9); // from revision 1, a new store's
      server.awaitMetric("cairn_rpc_inflight", v -> v == 0);
      await(client.shutdown(0, TimeUnit.SECONDS)); // gone at once, not after its answers as a graceful close waits
      // A call after the client left: the leaving connection's close is a task the event loop queued before this
      // call's answer (the front has one event loop), so the close has run by the time the answer arrives.
      assertThat(server.call(KVGrpcClient.Put, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("stayed"))
          .setValue(ByteString.copyFromUtf8("v")).build()).ok().getHeader().getRevision()).isEqualTo(10);

      assertThat(logged.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).isEmpty();
    } finally {
      root.detachAppender(logged);
    }
  }

  private static Buffer grpcFrame(byte[] message) {
    return Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message);
  }
}
