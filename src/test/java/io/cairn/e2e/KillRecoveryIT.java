package io.cairn.e2e;

import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fat jar under concurrent writers, killed with SIGKILL mid-stream: after a restart every acknowledged write
 * is readable and revisions continue past the last acknowledged one, and the killed server leaves nothing in the
 * temp directory.
 */
class KillRecoveryIT {

  private static final int WRITERS = 8;
  private static final int ACKS_BEFORE_KILL = 2000;

  @TempDir
  Path dataDir;

  @TempDir
  Path tempDir;

  private record Ack(String value, long revision) {}

  @Test
  void everyAcknowledgedWriteSurvivesSigkill() throws Exception {
    Map<String, Ack> acked = new ConcurrentHashMap<>();
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx);
    try (CairnProcess server = CairnProcess.startServer(List.of("-Djava.io.tmpdir=" + tempDir), dataDir)) {
      QueryServiceGrpcClient client = QueryServiceGrpcClient.create(grpc,
          SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"));
      AtomicInteger ackCount = new AtomicInteger();
      CompletableFuture<Void> enoughAcks = new CompletableFuture<>();
      List<Future<Void>> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        writers.add(writeUntilFailure(client, "w" + w, 0, acked, ackCount, enoughAcks));
      }
      enoughAcks.get(120, TimeUnit.SECONDS);
      server.process.destroyForcibly(); // SIGKILL while the writers are still writing
      assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(server.process.exitValue()).isEqualTo(137);
      try (Stream<Path> left = Files.list(tempDir)) {
        assertThat(left.map(Path::getFileName).map(Path::toString).toList())
            .as("what the killed server left in its temp directory").isEmpty();
      }
      Future.join(writers).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    assertThat(acked.size()).isGreaterThanOrEqualTo(ACKS_BEFORE_KILL);
    long lastAcked = acked.values().stream().mapToLong(Ack::revision).max().orElseThrow();

    try (CairnProcess restarted = CairnProcess.startServer(dataDir)) {
      QueryServiceGrpcClient client = QueryServiceGrpcClient.create(grpc,
          SocketAddress.inetSocketAddress(restarted.grpcPort(), "127.0.0.1"));
      List<String> missing = new ArrayList<>();
      for (Map.Entry<String, Ack> e : acked.entrySet()) {
        String[] parts = e.getKey().split("/", 2);
        QueryResponse read = await(client.executeQuery(request(get(parts[0], parts[1]))));
        if (!read.getResult().getGet().getFound()
            || read.getResult().getGet().getKv().getModRevision() < e.getValue().revision()) {
          missing.add(e.getKey());
        }
      }
      assertThat(missing).as("acknowledged writes lost by the crash").isEmpty();
      QueryResponse next = await(client.executeQuery(request(set("after", "crash", "1"))));
      assertThat(next.getHeader().getRevision()).isGreaterThan(lastAcked);
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /** One writer: sequential sets to its own collection until the server goes away. */
  private static Future<Void> writeUntilFailure(QueryServiceGrpcClient client, String collection, int i,
                                                Map<String, Ack> acked, AtomicInteger ackCount,
                                                CompletableFuture<Void> enoughAcks) {
    Promise<Void> done = Promise.promise();
    String key = "k" + i;
    String value = collection + "-" + i;
    client.executeQuery(request(set(collection, key, value))).onComplete(ar -> {
      if (ar.failed()) {
        done.complete();
        return;
      }
      acked.put(collection + "/" + key, new Ack(value, ar.result().getHeader().getRevision()));
      if (ackCount.incrementAndGet() >= ACKS_BEFORE_KILL) {
        enoughAcks.complete(null);
      }
      writeUntilFailure(client, collection, i + 1, acked, ackCount, enoughAcks).onComplete(done);
    });
    return done.future();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
