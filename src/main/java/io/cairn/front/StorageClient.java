package io.cairn.front;

import io.cairn.bus.Addresses;
import io.cairn.bus.AlarmReply;
import io.cairn.bus.AlarmRequest;
import io.cairn.bus.CairnException;
import io.cairn.bus.CursorPage;
import io.cairn.bus.CursorRequest;
import io.cairn.bus.DefragmentRequest;
import io.cairn.bus.InlineReads;
import io.cairn.bus.KvOp;
import io.cairn.bus.LeaseAnswer;
import io.cairn.bus.LeaseQuery;
import io.cairn.bus.ReadBatch;
import io.cairn.bus.ReadBatchReply;
import io.cairn.bus.ReadReply;
import io.cairn.bus.ReadRequest;
import io.cairn.bus.StorageStatus;
import io.cairn.bus.WriteReply;
import io.cairn.bus.WriteRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.ArrayList;
import java.util.List;

/**
 * The fronts' way to storage: event-bus requests, failures translated into {@link CairnException}. A short read is
 * first offered to the store's {@link InlineReads}, answered right here on the event loop when it is small and in
 * memory. Short reads it declines, issued in the same event-loop turn, travel together as one {@link ReadBatch}:
 * one bus hop and one reader wake-up for all of them, which is most of what a point read costs.
 */
public final class StorageClient {

  /** Most reads one batch carries; a full batch leaves at once. */
  static final int MAX_BATCH = 256;

  private record PendingRead(List<KvOp> ops, Promise<ReadReply> reply, long timeoutMs) {}

  private final Vertx vertx;
  private final Context context;
  /** The context's event loop: requests run on duplicates of the verticle's context, so compare threads. */
  private final Thread eventLoop;
  private List<PendingRead> batch;
  private InlineReads inline;

  /** Create it on the event loop that will use it: inline reads and batching happen on that loop only. */
  public StorageClient(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.eventLoop = Context.isOnEventLoopThread() ? Thread.currentThread() : null;
    // Until (unless) storage offers inline reads, every read goes through the bus.
    vertx.eventBus().<InlineReads>request(Addresses.STORAGE_INLINE_READS, null)
        .onSuccess(message -> inline = message.body());
  }

  public Future<ReadReply> read(List<KvOp> ops, long timeoutMs) {
    if (Thread.currentThread() != eventLoop || !batchable(ops)) {
      return request(Addresses.STORAGE_READ, new ReadRequest(ops), timeoutMs);
    }
    if (inline != null) {
      try {
        ReadReply reply = inline.tryRead(ops);
        if (reply != null) {
          return Future.succeededFuture(reply);
        }
      } catch (CairnException e) {
        return Future.failedFuture(e);
      }
    }
    if (batch == null) {
      batch = new ArrayList<>();
      context.runOnContext(v -> flush());
    }
    Promise<ReadReply> reply = Promise.promise();
    batch.add(new PendingRead(ops, reply, timeoutMs));
    if (batch.size() >= MAX_BATCH) {
      flush();
    }
    return reply.future();
  }

  /** Scans of unknown length (hashes, history pages) go alone, so they never hold up the short reads. */
  private static boolean batchable(List<KvOp> ops) {
    return ops.stream().noneMatch(op -> op instanceof KvOp.Hash || op instanceof KvOp.History);
  }

  private void flush() {
    List<PendingRead> reads = batch;
    batch = null;
    if (reads == null || reads.isEmpty()) {
      return;
    }
    if (reads.size() == 1) {
      PendingRead only = reads.get(0);
      request(Addresses.STORAGE_READ, new ReadRequest(only.ops()), only.timeoutMs())
          .onComplete(ar -> only.reply().handle(ar.map(r -> (ReadReply) r)));
      return;
    }
    List<List<KvOp>> requests = new ArrayList<>(reads.size());
    long timeout = 0;
    for (PendingRead r : reads) {
      requests.add(r.ops());
      timeout = Math.max(timeout, r.timeoutMs());
    }
    this.<ReadBatchReply>request(Addresses.STORAGE_READ_BATCH, new ReadBatch(requests), timeout)
        .onComplete(ar -> {
          for (int i = 0; i < reads.size(); i++) {
            Promise<ReadReply> reply = reads.get(i).reply();
            if (ar.failed()) {
              reply.fail(ar.cause());
            } else if (ar.result().outcomes().get(i) instanceof ReadReply r) {
              reply.complete(r);
            } else {
              reply.fail((Throwable) ar.result().outcomes().get(i));
            }
          }
        });
  }

  public Future<WriteReply> write(List<KvOp> ops, long timeoutMs) {
    return request(Addresses.STORAGE_WRITE, new WriteRequest(ops), timeoutMs);
  }

  /** One step of a streaming read; a page, or null for a close. */
  public Future<CursorPage> cursor(CursorRequest request, long timeoutMs) {
    return request(Addresses.STORAGE_CURSOR, request, timeoutMs);
  }

  public Future<StorageStatus> status() {
    return request(Addresses.STORAGE_STATUS, null, 5000);
  }

  public Future<LeaseAnswer> lease(LeaseQuery query, long timeoutMs) {
    return request(Addresses.STORAGE_LEASE, query, timeoutMs);
  }

  public Future<AlarmReply> alarm(AlarmRequest request, long timeoutMs) {
    return request(Addresses.STORAGE_ALARM, request, timeoutMs);
  }

  public Future<StorageStatus> defragment(long timeoutMs) {
    return request(Addresses.STORAGE_DEFRAGMENT, new DefragmentRequest(), timeoutMs);
  }

  private <T> Future<T> request(String address, Object body, long timeoutMs) {
    return vertx.eventBus().<T>request(address, body, options(timeoutMs))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)));
  }

  private static DeliveryOptions options(long timeoutMs) {
    return new DeliveryOptions().setSendTimeout(timeoutMs);
  }
}
