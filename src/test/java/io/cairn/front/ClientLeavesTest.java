package io.cairn.front;

import com.google.protobuf.ByteString;
import io.cairn.TestServer;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

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

  private static Buffer grpcFrame(byte[] message) {
    return Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message);
  }
}
