package io.cairn.bench;

import com.google.protobuf.ByteString;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.WatchCreateRequest;
import io.cairn.proto.etcd.WatchGrpcClient;
import io.cairn.proto.etcd.WatchRequest;
import io.cairn.proto.etcd.WatchResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load clients of {@code scripts/bench}, speaking the etcd API to any server (Cairn or etcd):
 * <ul>
 *   <li>{@code watch HOST:PORT WATCHERS STREAMS PUTS VALUE_BYTES}: opens the watchers on one key over STREAMS Watch
 *   streams, prints {@code READY} and waits for a line on stdin (the harness measures memory meanwhile), then
 *   puts PUTS values one after another and prints the delivery rate as JSON when every watcher has every event;</li>
 *   <li>{@code load HOST:PORT MEGABYTES VALUE_KIB}: writes that much data under distinct keys, 16 puts at a time.</li>
 * </ul>
 */
public final class BenchClient {

  private BenchClient() {}

  public static void main(String[] args) throws Exception {
    String[] hostPort = args[1].split(":");
    SocketAddress address = SocketAddress.inetSocketAddress(Integer.parseInt(hostPort[1]), hostPort[0]);
    Vertx vertx = Vertx.vertx();
    GrpcClient client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(64 << 20));
    try {
      switch (args[0]) {
        case "watch" -> watch(client, address, Integer.parseInt(args[2]), Integer.parseInt(args[3]),
            Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        case "load" -> load(client, address, Long.parseLong(args[2]), Integer.parseInt(args[3]));
        default -> throw new IllegalArgumentException("unknown mode " + args[0]);
      }
    } finally {
      client.close();
      vertx.close();
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }

  private static void watch(GrpcClient client, SocketAddress address, int watchers, int streams, int puts,
                            int valueBytes) throws Exception {
    ByteString key = ByteString.copyFromUtf8("bench/watch");
    AtomicInteger created = new AtomicInteger();
    AtomicLong events = new AtomicLong();
    long expected = (long) watchers * puts;
    Promise<Void> allCreated = Promise.promise();
    Promise<Void> allDelivered = Promise.promise();
    List<GrpcClientRequest<WatchRequest, WatchResponse>> open = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      int onThisStream = watchers / streams + (s < watchers % streams ? 1 : 0);
      GrpcClientRequest<WatchRequest, WatchResponse> call = await(client.request(address, WatchGrpcClient.Watch));
      open.add(call);
      call.response().onSuccess(response -> response.handler(r -> {
        if (r.getCreated() && created.incrementAndGet() == watchers) {
          allCreated.tryComplete();
        }
        if (events.addAndGet(r.getEventsCount()) >= expected) {
          allDelivered.tryComplete();
        }
      }));
      for (int w = 0; w < onThisStream; w++) {
        call.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(key)).build());
      }
    }
    await(allCreated.future());
    System.out.println("READY");
    System.out.flush();
    new BufferedReader(new InputStreamReader(System.in)).readLine();
    KVGrpcClient kv = KVGrpcClient.create(client, address);
    ByteString value = ByteString.copyFrom(new byte[valueBytes]);
    long start = System.nanoTime();
    for (int i = 0; i < puts; i++) {
      await(kv.put(PutRequest.newBuilder().setKey(key).setValue(value).build()));
    }
    await(allDelivered.future());
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("{\"watchers\":%d,\"puts\":%d,\"events\":%d,\"seconds\":%.3f,\"eventsPerSecond\":%.0f}%n",
        watchers, puts, events.get(), seconds, events.get() / seconds);
    open.forEach(GrpcClientRequest::cancel);
  }

  private static void load(GrpcClient client, SocketAddress address, long megabytes, int valueKib) throws Exception {
    KVGrpcClient kv = KVGrpcClient.create(client, address);
    long count = megabytes * 1024 / valueKib;
    byte[] raw = new byte[valueKib * 1024];
    new java.util.Random(42).nextBytes(raw);
    ByteString value = ByteString.copyFrom(raw);
    AtomicLong next = new AtomicLong();
    Promise<Void> done = Promise.promise();
    AtomicInteger running = new AtomicInteger(16);
    for (int lane = 0; lane < 16; lane++) {
      putNext(kv, value, next, count, running, done);
    }
    await(done.future());
    System.out.printf("{\"keys\":%d,\"bytes\":%d}%n", count, count * raw.length);
  }

  private static void putNext(KVGrpcClient kv, ByteString value, AtomicLong next, long count, AtomicInteger running,
                              Promise<Void> done) {
    long i = next.getAndIncrement();
    if (i >= count) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    put(kv, PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(String.format("bench/load/%09d", i)))
        .setValue(value).build(), 5)
        .onFailure(done::tryFail)
        .onSuccess(r -> putNext(kv, value, next, count, running, done));
  }

  /**
   * A put, tried again when the HTTP/2 stream breaks: against etcd, this Vert.x client sees an occasional "Stream
   * was closed" under sustained large puts (not seen against Cairn); the data written is the same either way.
   */
  private static Future<io.cairn.proto.etcd.PutResponse> put(KVGrpcClient kv, PutRequest request, int attempts) {
    return kv.put(request).recover(e -> attempts > 1 ? put(kv, request, attempts - 1) : Future.failedFuture(e));
  }
}
