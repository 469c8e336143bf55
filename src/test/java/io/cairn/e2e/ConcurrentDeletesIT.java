package io.cairn.e2e;

import com.google.protobuf.ByteString;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.DeleteRangeResponse;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.RangeRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Deletes that each stay within {@code storage.max-read-bytes}, sent at once, may not add up in one group commit:
 * its events keep every removed value until it is answered. Twenty-four concurrent deletes of 7 MB each under a
 * 128 MiB heap (bound about 7.7 MB) ran the heap out before groups stopped taking requests at the bound.
 */
class ConcurrentDeletesIT {

  private static final int PREFIXES = 24;
  private static final int VALUES_PER_PREFIX = 7;
  private static final int VALUE_BYTES = 1_000_000;

  @TempDir
  Path dataDir;

  @Test
  void concurrentLargeDeletesAllSucceedWithinTheHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(4 << 20));
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      KVGrpcClient kv = KVGrpcClient.create(grpc, SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"));
      byte[] value = new byte[VALUE_BYTES];
      new Random(7).nextBytes(value);
      for (int prefix = 0; prefix < PREFIXES; prefix++) {
        for (int i = 0; i < VALUES_PER_PREFIX; i++) {
          await(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("d" + prefix + "/" + i))
              .setValue(ByteString.copyFrom(value)).build()));
        }
      }

      List<Future<DeleteRangeResponse>> deletes = new ArrayList<>();
      for (int prefix = 0; prefix < PREFIXES; prefix++) {
        deletes.add(kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("d" + prefix + "/"))
            .setRangeEnd(ByteString.copyFromUtf8("d" + prefix + "0")).build()));
      }
      await(Future.join(deletes).otherwiseEmpty());
      for (Future<DeleteRangeResponse> delete : deletes) {
        assertThat(delete.succeeded()).as("%s; the server said:%n%s", delete.cause(), server.text()).isTrue();
        assertThat(delete.result().getDeleted()).isEqualTo(VALUES_PER_PREFIX);
      }
      assertThat(deletes.stream().map(d -> d.result().getHeader().getRevision()).distinct().count())
          .isEqualTo(PREFIXES);
      assertThat(await(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("d"))
          .setRangeEnd(ByteString.copyFromUtf8("e")).setCountOnly(true).build())).getCount()).isZero();
      WebClient web = WebClient.create(vertx);
      assertThat(await(web.get(server.httpPort(), "127.0.0.1", "/readyz").send()).statusCode()).isEqualTo(200);
    } finally {
      grpc.close();
      vertx.close();
    }
  }
}
