package io.cairn.e2e;

import com.google.protobuf.ByteString;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.SetQuery;
import io.cairn.proto.v1.StreamResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 1 GiB collection streamed out of the fat jar running with a 256 MiB heap: the stream is complete and in order,
 * and the server's heap never needed more than its cap (it would have failed with OutOfMemoryError).
 */
class LargeStreamIT {

  private static final int VALUE_SIZE = 64 * 1024;
  private static final int VALUES = 16 * 1024;
  private static final int PER_BATCH = 16;
  private static final int CONCURRENT_BATCHES = 8;
  private static final Pattern HEAP_USED = Pattern.compile("^jvm_memory_used_bytes\\{area=\"heap\"[^}]*} (\\S+)$",
      Pattern.MULTILINE);

  @TempDir
  Path dataDir;

  @Test
  void aGigabyteStreamsThroughA256MegabyteHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(16 << 20));
    try (CairnProcess server = CairnProcess.startServer(List.of("-Xmx256m"), dataDir,
        "--set", "limits.max-request-size=2097152",
        // 1 GiB of values is about 2 GiB stored (latest values plus history), past the default 2 GiB quota
        "--set", "storage.quota-bytes=8589934592")) {
      SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
      QueryServiceGrpcClient client = QueryServiceGrpcClient.create(grpc, address);
      await(load(client));

      AtomicLong valueBytes = new AtomicLong();
      AtomicInteger values = new AtomicInteger();
      AtomicLong maxHeap = new AtomicLong();
      String[] previousKey = {""};
      boolean[] inOrder = {true};
      Promise<StreamResponse> ended = Promise.promise();
      WebClient web = WebClient.create(vertx);
      long sampler = vertx.setPeriodic(100, id -> web.get(server.httpPort(), "127.0.0.1", "/metrics").send()
          .onSuccess(r -> maxHeap.accumulateAndGet(heapUsed(r.bodyAsString()), Math::max)));
      QueryRequest query = request(range("large", "", "", 0));
      long started = System.nanoTime();
      grpc.request(address, QueryServiceGrpcClient.ExecuteStream).onSuccess(call -> {
        call.end(query);
        call.response().onSuccess(response -> {
          StreamResponse[] last = new StreamResponse[1];
          response.handler(m -> {
            last[0] = m;
            m.getChunk().getKvsList().forEach(kv -> {
              String key = kv.getKey().toStringUtf8();
              inOrder[0] &= key.compareTo(previousKey[0]) > 0;
              previousKey[0] = key;
              values.incrementAndGet();
              valueBytes.addAndGet(kv.getValue().size());
            });
          });
          response.endHandler(v -> {
            if (response.status() == GrpcStatus.OK) {
              ended.tryComplete(last[0]);
            } else {
              ended.tryFail(response.status() + ": " + response.statusMessage());
            }
          });
          response.exceptionHandler(ended::tryFail);
        }).onFailure(ended::tryFail);
      }).onFailure(ended::tryFail);
      StreamResponse end = await(ended.future());
      vertx.cancelTimer(sampler);
      System.out.printf("LargeStreamIT: streamed %d MiB in %d ms; largest heap use sampled: %d MiB%n",
          valueBytes.get() >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), maxHeap.get() >> 20);

      assertThat(values.get()).isEqualTo(VALUES);
      assertThat(valueBytes.get()).isEqualTo((long) VALUES * VALUE_SIZE);
      assertThat(inOrder[0]).isTrue();
      assertThat(end.getEnd().getTotalCount()).isEqualTo(VALUES);
      assertThat(maxHeap.get()).as("largest heap use sampled during the stream").isPositive()
          .isLessThan(256L << 20);
      assertThat(server.process.isAlive()).isTrue();
      assertThat(server.text()).doesNotContain("OutOfMemoryError");
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /** Writes the collection in batches of 1 MiB, a few at a time; the values are random (incompressible). */
  private static Future<Void> load(QueryServiceGrpcClient client) {
    Promise<Void> done = Promise.promise();
    AtomicInteger nextBatch = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    int batches = VALUES / PER_BATCH;
    for (int lane = 0; lane < CONCURRENT_BATCHES; lane++) {
      sendNext(client, nextBatch, finished, batches, done);
    }
    return done.future();
  }

  private static void sendNext(QueryServiceGrpcClient client, AtomicInteger nextBatch, AtomicInteger finished,
                               int batches, Promise<Void> done) {
    int b = nextBatch.getAndIncrement();
    if (b >= batches) {
      return;
    }
    SplittableRandom random = new SplittableRandom(b);
    BatchRequest.Builder batch = BatchRequest.newBuilder();
    for (int i = 0; i < PER_BATCH; i++) {
      byte[] value = new byte[VALUE_SIZE];
      for (int j = 0; j < VALUE_SIZE; j += 8) {
        long r = random.nextLong();
        for (int k = 0; k < 8; k++) {
          value[j + k] = (byte) (r >>> (8 * k));
        }
      }
      batch.addQueries(Query.newBuilder().setSet(SetQuery.newBuilder().setCollection("large")
          .setKey(ByteString.copyFromUtf8(String.format("v%06d", b * PER_BATCH + i)))
          .setValue(ByteString.copyFrom(value))));
    }
    client.executeBatch(batch.build()).onComplete(ar -> {
      if (ar.failed()) {
        done.tryFail(ar.cause());
      } else if (finished.incrementAndGet() == batches) {
        done.tryComplete();
      } else {
        sendNext(client, nextBatch, finished, batches, done);
      }
    });
  }

  private static long heapUsed(String metrics) {
    long sum = 0;
    Matcher m = HEAP_USED.matcher(metrics);
    while (m.find()) {
      sum += (long) Double.parseDouble(m.group(1));
    }
    return sum;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }
}
