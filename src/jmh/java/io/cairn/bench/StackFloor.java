package io.cairn.bench;

import io.cairn.proto.etcd.KVGrpcService;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.PutResponse;
import io.cairn.proto.etcd.ResponseHeader;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * What the mandated stack costs with no database behind it: a Vert.x gRPC server, set up like Cairn's fronts
 * (native transport, the same HTTP/2 windows, flushes consolidated, one server per core), that answers etcd's
 * {@code KV/Put} with an empty success. {@code scripts/bench --only floor} measures it beside etcd, so a target
 * that even this server misses is shown to be out of reach of any server built on the stack on this machine.
 *
 * <p>{@code StackFloor GRPC_PORT HTTP_PORT MODE FILE}, MODE one of
 * <ul>
 *   <li>{@code answer}: answers at once on the event loop, writing nothing: the gRPC round trip alone;</li>
 *   <li>{@code sync-writer}: appends every request to FILE and makes it durable with {@code fdatasync} on one writer
 *   thread of its own, in groups (every request that arrives during a sync joins the next one), then answers a
 *   group's requests with one task per event loop: the least a durable write needs without blocking an event loop;</li>
 *   <li>{@code sync-inline}: appends and syncs right on the event loop, each request alone: a lower bound no real
 *   server may use, since a sync blocks every other connection of that loop.</li>
 * </ul>
 * FILE is preallocated (64 MiB of zeros, synced once) and written round, as etcd preallocates its log segments, so
 * no sync has to update the file's size. {@code GET /readyz} answers once the gRPC port is bound; {@code GET /heap}
 * collects twice and answers the bytes in use in the heap's non-eden pools, as the bench reads Cairn's.
 */
public final class StackFloor {

  private static final long FILE_BYTES = 64L << 20;
  private static final int WINDOW = 1 << 20;

  private StackFloor() {}

  public static void main(String[] args) throws Exception {
    int grpcPort = Integer.parseInt(args[0]);
    int httpPort = Integer.parseInt(args[1]);
    String mode = args[2];
    if (!List.of("answer", "sync-writer", "sync-inline").contains(mode)) {
      throw new IllegalArgumentException("unknown mode " + mode + ": answer, sync-writer or sync-inline");
    }
    Log log = mode.equals("answer") ? null : new Log(Path.of(args[3]));
    if (mode.equals("sync-writer")) {
      log.startWriter();
    }
    Vertx vertx = Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
    int fronts = Runtime.getRuntime().availableProcessors();
    vertx.deployVerticle(() -> new Front(grpcPort, mode, log), new DeploymentOptions().setInstances(fronts))
        .compose(id -> vertx.createHttpServer().requestHandler(request -> {
          switch (request.path()) {
            case "/readyz" -> request.response().end("ok");
            case "/heap" -> vertx.executeBlocking(StackFloor::heapOutsideEden)
                .onSuccess(bytes -> request.response().end(Long.toString(bytes)));
            default -> request.response().setStatusCode(404).end();
          }
        }).listen(httpPort, "127.0.0.1"))
        .toCompletionStage().toCompletableFuture().get();
    System.out.println("stack floor listening on " + grpcPort + " in mode " + mode + " with " + fronts + " fronts");
  }

  private static long heapOutsideEden() {
    System.gc();
    System.gc();
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && !pool.getName().contains("Eden")) {
        used += pool.getUsage().getUsed();
      }
    }
    return used;
  }

  private static final class Front extends AbstractVerticle {
    private final int port;
    private final String mode;
    private final Log log;

    Front(int port, String mode, Log log) {
      this.port = port;
      this.mode = mode;
      this.log = log;
    }

    @Override
    public void start(Promise<Void> started) {
      GrpcServer grpc = GrpcServer.server(vertx);
      grpc.callHandler(KVGrpcService.Put, request -> request.handler(put -> handle(request, put)));
      vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port)
              .setInitialSettings(new Http2Settings().setInitialWindowSize(WINDOW))
              .setHttp2ConnectionWindowSize(16 * WINDOW))
          .requestHandler(grpc)
          .connectionHandler(connection -> {
            if (connection instanceof ConnectionBase base) {
              base.channelHandlerContext().pipeline().addFirst(new FlushConsolidationHandler(
                  FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
            }
          })
          .listen()
          .<Void>mapEmpty()
          .onComplete(started);
    }

    private void handle(GrpcServerRequest<PutRequest, PutResponse> request, PutRequest put) {
      switch (mode) {
        case "answer" -> answer(request, log == null ? 0 : log.appended());
        case "sync-inline" -> answer(request, log.appendAndSync(put.toByteArray()));
        default -> log.submit(put.toByteArray(), vertx.getOrCreateContext(), revision -> answer(request, revision));
      }
    }

    private static void answer(GrpcServerRequest<PutRequest, PutResponse> request, long revision) {
      request.response().end(PutResponse.newBuilder()
          .setHeader(ResponseHeader.newBuilder().setRevision(revision)).build());
    }
  }

  /** The preallocated file, written round; in sync-writer mode fed by the fronts and synced by one thread. */
  private static final class Log {
    private record Append(byte[] bytes, Context context, java.util.function.LongConsumer answer) {}

    private final FileChannel channel;
    private final Queue<Append> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong appended = new AtomicLong();
    private volatile boolean writerIdle;
    private Thread writer;
    private long position;

    Log(Path path) throws IOException {
      channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
      for (long at = 0; at < FILE_BYTES; at += zeros.capacity()) {
        zeros.clear();
        channel.write(zeros, at);
      }
      channel.force(true);
    }

    long appended() {
      return appended.get();
    }

    /** Called on event loops in sync-inline mode: a lock keeps the two fronts' positions apart. */
    synchronized long appendAndSync(byte[] bytes) {
      write(List.of(bytes));
      sync();
      return appended.incrementAndGet();
    }

    void submit(byte[] bytes, Context context, java.util.function.LongConsumer answer) {
      queue.add(new Append(bytes, context, answer));
      if (writerIdle) {
        LockSupport.unpark(writer);
      }
    }

    void startWriter() {
      writer = new Thread(this::writeGroups, "floor-writer");
      writer.setDaemon(true);
      writer.start();
    }

    private void writeGroups() {
      List<Append> group = new ArrayList<>();
      List<byte[]> bytes = new ArrayList<>();
      while (true) {
        for (Append a; (a = queue.poll()) != null; ) {
          group.add(a);
          bytes.add(a.bytes());
        }
        if (group.isEmpty()) {
          writerIdle = true;
          if (queue.isEmpty()) {
            LockSupport.park(this);
          }
          writerIdle = false;
          continue;
        }
        write(bytes);
        sync();
        // one task per event loop for the whole group, as Cairn answers a commit's requests
        Map<Context, List<Runnable>> answers = new IdentityHashMap<>();
        for (Append a : group) {
          long revision = appended.incrementAndGet();
          answers.computeIfAbsent(a.context(), c -> new ArrayList<>()).add(() -> a.answer().accept(revision));
        }
        answers.forEach((context, batch) -> context.runOnContext(v -> batch.forEach(Runnable::run)));
        group.clear();
        bytes.clear();
      }
    }

    private void write(List<byte[]> records) {
      int size = records.stream().mapToInt(r -> r.length + 4).sum();
      ByteBuffer buffer = ByteBuffer.allocate(size);
      records.forEach(r -> buffer.putInt(r.length).put(r));
      buffer.flip();
      if (position + size > FILE_BYTES) {
        position = 0;
      }
      try {
        while (buffer.hasRemaining()) {
          position += channel.write(buffer, position);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void sync() {
      try {
        channel.force(false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
