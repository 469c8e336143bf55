package io.cairn.e2e;

import com.google.protobuf.ByteString;
import io.cairn.Queries;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.SetQuery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the store cannot write (here RocksDB cannot create its next write-ahead log: other connections hold every
 * file descriptor the process may open, with {@code front.max-connections} set past that limit), the writes fail
 * with UNAVAILABLE, readiness and etcd's health say why, and reads still work.
 */
class FailingWritesIT {

  private static final int OPEN_FILES = 256;
  private static final int VALUE_BYTES = 1_000_000;

  @TempDir
  Path dataDir;

  @Test
  void writesTheStoreCannotMakeDurableFailAndReadinessSaysWhy() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(4 << 20));
    List<Socket> hogs = new ArrayList<>();
    try (CairnProcess server = CairnProcess.startServerWithFileLimit(OPEN_FILES, dataDir,
        "--set", "front.max-connections=100000")) {
      QueryServiceGrpcClient client = QueryServiceGrpcClient.create(grpc,
          SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"));
      await(client.executeQuery(request(set("c", "before", "kept"))));
      for (int i = 0; i < OPEN_FILES; i++) {
        Socket hog = new Socket();
        hog.connect(new InetSocketAddress("127.0.0.1", server.grpcPort()), 5000);
        hogs.add(hog);
      }
      // past 32 MiB of log (storage's bound) RocksDB switches to a new write-ahead log, which it cannot create
      String failure = null;
      for (int i = 0; i < 200 && failure == null; i++) {
        try {
          await(client.executeQuery(request(Query.newBuilder().setSet(SetQuery.newBuilder().setCollection("c")
              .setKey(Queries.bytes("big" + i)).setValue(ByteString.copyFrom(new byte[VALUE_BYTES]))).build())));
        } catch (ExecutionException e) {
          failure = e.getCause().getMessage();
        }
      }
      assertThat(failure).as("a write failed").isNotNull().contains("UNAVAILABLE");
      for (Socket hog : hogs) {
        hog.close();
      }
      hogs.clear();

      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.httpPort() + "/readyz?verbose")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).contains("[-]storage failed", "writes fail since", "Too many open files");
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.grpcPort() + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.body()).contains("\"health\":\"false\"", "writes fail since");
      assertThat(await(client.executeQuery(request(get("c", "before")))).getResult().getGet().getKv().getValue()
          .toStringUtf8()).as("reads still work").isEqualTo("kept");
      assertThat(server.process.isAlive()).isTrue();
    } finally {
      for (Socket hog : hogs) {
        hog.close();
      }
      grpc.close();
      vertx.close();
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
