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
import io.cairn.bus.WriteBatch;
import io.cairn.bus.WriteBatchReply;
import io.cairn.bus.WriteReply;
import io.cairn.bus.WriteRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The fronts' way to storage: event-bus requests, failures translated into {@link CairnException}. A short read is
 * first offered to the store's {@link InlineReads}, answered right here on the event loop when it is small and in
 * memory. Short reads it declines, and writes, issued in the same event-loop turn travel together as one {@link
 * ReadBatch} or {@link WriteBatch}: one bus hop, one wake-up and one reply for all of them.
 */
public final class StorageClient {

  private static final Logger LOG = LoggerFactory.getLogger(StorageClient.class);

  /** Most requests one batch carries; a full batch leaves at once. */
  static final int MAX_BATCH = 256;

  private final Vertx vertx;
  private final Context context;
  /** The context's event loop: requests run on duplicates of the verticle's context, so compare threads. */
  private final Thread eventLoop;
  private final Batcher<ReadReply> reads;
  private final Batcher<WriteReply> writes;
  private InlineReads inline;

  /** Create it on the event loop that will use it: inline reads and batching happen on that loop only. */
  public StorageClient(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.eventLoop = Context.isOnEventLoopThread() ? Thread.currentThread() : null;
    this.reads = new Batcher<>(Addresses.STORAGE_READ, ReadRequest::new, Addresses.STORAGE_READ_BATCH,
        ReadBatch::new, reply -> ((ReadBatchReply) reply).outcomes());
    this.writes = new Batcher<>(Addresses.STORAGE_WRITE, WriteRequest::new, Addresses.STORAGE_WRITE_BATCH,
        WriteBatch::new, reply -> ((WriteBatchReply) reply).outcomes());
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
    return reads.add(ops, timeoutMs);
  }

  /** Scans of unknown length (hashes, history pages) go alone, so they never hold up the short reads. */
  private static boolean batchable(List<KvOp> ops) {
    return ops.stream().noneMatch(op -> op instanceof KvOp.Hash || op instanceof KvOp.History);
  }

  public Future<WriteReply> write(List<KvOp> ops, long timeoutMs) {
    if (Thread.currentThread() != eventLoop) {
      return request(Addresses.STORAGE_WRITE, new WriteRequest(ops), timeoutMs);
    }
    return writes.add(ops, timeoutMs);
  }

  /** Requests of one kind gathered during an event-loop turn and sent when it ends (or when MAX_BATCH fill it). */
  private final class Batcher<R> {
    private record Pending<R>(List<KvOp> ops, Promise<R> reply, long timeoutMs) {}

    private final String singleAddress;
    private final Function<List<KvOp>, Object> single;
    private final String batchAddress;
    private final Function<List<List<KvOp>>, Object> batch;
    private final Function<Object, List<Object>> outcomes;
    private List<Pending<R>> pending;

    Batcher(String singleAddress, Function<List<KvOp>, Object> single, String batchAddress,
            Function<List<List<KvOp>>, Object> batch, Function<Object, List<Object>> outcomes) {
      this.singleAddress = singleAddress;
      this.single = single;
      this.batchAddress = batchAddress;
      this.batch = batch;
      this.outcomes = outcomes;
    }

    Future<R> add(List<KvOp> ops, long timeoutMs) {
      if (pending == null) {
        pending = new ArrayList<>();
        context.runOnContext(v -> flush());
      }
      Promise<R> reply = Promise.promise();
      pending.add(new Pending<>(ops, reply, timeoutMs));
      if (pending.size() >= MAX_BATCH) {
        flush();
      }
      return reply.future();
    }

    @SuppressWarnings("unchecked")
    private void flush() {
      List<Pending<R>> sent = pending;
      pending = null;
      if (sent == null || sent.isEmpty()) {
        return;
      }
      if (sent.size() == 1) {
        Pending<R> only = sent.get(0);
        StorageClient.this.<R>request(singleAddress, single.apply(only.ops()), only.timeoutMs())
            .onComplete(only.reply());
        return;
      }
      List<List<KvOp>> requests = new ArrayList<>(sent.size());
      long timeout = 0;
      for (Pending<R> p : sent) {
        requests.add(p.ops());
        timeout = Math.max(timeout, p.timeoutMs());
      }
      request(batchAddress, batch.apply(requests), timeout).onComplete(ar -> {
        for (int i = 0; i < sent.size(); i++) {
          Promise<R> reply = sent.get(i).reply();
          // A reply's listeners answer its caller, right here; whatever one of them throws must not keep the
          // rest of the batch, often other clients' requests, from their answers.
          try {
            if (ar.failed()) {
              reply.fail(ar.cause());
              continue;
            }
            Object outcome = outcomes.apply(ar.result()).get(i);
            if (outcome == ReadBatchReply.RUN_AGAIN) {
              Pending<R> again = sent.get(i);
              add(again.ops(), again.timeoutMs()).onComplete(reply);
            } else if (outcome instanceof Throwable failure) {
              reply.fail(failure);
            } else {
              reply.complete((R) outcome);
            }
          } catch (RuntimeException e) {
            LOG.error("answering request {} of a batch of {} failed", i + 1, sent.size(), e);
          }
        }
      });
    }
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
