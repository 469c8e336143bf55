package io.cairn.storage;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.KvOp;
import io.cairn.bus.StorageStatus;
import io.cairn.bus.WriteReply;
import io.cairn.bus.WriteRequest;
import io.cairn.config.CairnConfig;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The single writer. It opens the store, deploys the readers, and commits writes in groups: while one synced
 * RocksDB write is in progress, the requests that arrive queue up and go together into the next one, so a sync
 * is shared by every writer waiting for it and durability does not serialize throughput.
 */
public final class StorageVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(StorageVerticle.class);
  private static final String NAME = "storage-writer";

  private final CairnConfig.Storage config;
  private final MeterRegistry registry;
  private final ArrayDeque<Message<WriteRequest>> pending = new ArrayDeque<>();
  private boolean committing;
  private Promise<Void> drained;
  private MvccStore store;
  private volatile long dbSizeBytes;
  private DistributionSummary groupSizes;

  public StorageVerticle(CairnConfig.Storage config, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  @Override
  public void start(Promise<Void> startPromise) {
    vertx.executeBlocking(() -> MvccStore.open(config))
        .compose(opened -> {
          store = opened;
          registerMetrics();
          vertx.eventBus().<WriteRequest>localConsumer(Addresses.STORAGE_WRITE, this::enqueue);
          vertx.eventBus().localConsumer(Addresses.STORAGE_STATUS, msg -> msg.reply(status()));
          Heartbeats.start(vertx, NAME);
          refreshSize();
          vertx.setPeriodic(5000, id -> refreshSize());
          return vertx.deployVerticle(() -> new StorageReaderVerticle(store),
              new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setInstances(config.readers()));
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  private void registerMetrics() {
    Gauge.builder("cairn.storage.revision", store, MvccStore::revision)
        .description("latest committed store revision").register(registry);
    Gauge.builder("cairn.storage.keys", store, MvccStore::keyCount)
        .description("keys currently stored").register(registry);
    Gauge.builder("cairn.storage.db.size", this, v -> v.dbSizeBytes).baseUnit("bytes")
        .description("database size: SST files plus memtables").register(registry);
    Gauge.builder("cairn.storage.write.queue", pending, ArrayDeque::size)
        .description("write requests waiting for the next group commit").register(registry);
    groupSizes = DistributionSummary.builder("cairn.storage.group.commit.requests")
        .description("write requests committed together in one synced write batch").register(registry);
  }

  private void refreshSize() {
    if (store == null || !store.isOpen()) {
      return;
    }
    vertx.executeBlocking(store::approximateSizeBytes, false)
        .onSuccess(size -> dbSizeBytes = size)
        .onFailure(e -> LOG.debug("reading the database size failed", e));
  }

  private StorageStatus status() {
    boolean open = store != null && store.isOpen();
    return new StorageStatus(open, open ? store.revision() : 0, open ? store.keyCount() : 0, dbSizeBytes);
  }

  private void enqueue(Message<WriteRequest> message) {
    if (drained != null) {
      message.fail(ErrorCode.UNAVAILABLE.grpcCode, "the server is shutting down; retry on another member");
      return;
    }
    if (pending.size() >= config.maxPendingWrites()) {
      message.fail(ErrorCode.RESOURCE_EXHAUSTED.grpcCode, "server overloaded: " + pending.size()
          + " writes are already queued (storage.max-pending-writes); retry with backoff");
      return;
    }
    pending.add(message);
    commitNext();
  }

  private void commitNext() {
    if (committing) {
      return;
    }
    if (pending.isEmpty()) {
      if (drained != null) {
        drained.tryComplete();
      }
      return;
    }
    int size = Math.min(pending.size(), config.groupCommitMax());
    List<Message<WriteRequest>> group = new ArrayList<>(size);
    List<List<KvOp>> requests = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      Message<WriteRequest> m = pending.poll();
      group.add(m);
      requests.add(m.body().ops());
    }
    committing = true;
    groupSizes.record(size);
    vertx.executeBlocking(() -> store.apply(requests), false).onComplete(ar -> {
      committing = false;
      if (ar.succeeded()) {
        List<Object> outcomes = ar.result();
        for (int i = 0; i < group.size(); i++) {
          Object outcome = outcomes.get(i);
          if (outcome instanceof WriteReply reply) {
            group.get(i).reply(reply);
          } else {
            CairnException e = (CairnException) outcome;
            group.get(i).fail(e.code().grpcCode, e.getMessage());
          }
        }
      } else {
        CairnException e = ar.cause() instanceof CairnException ce ? ce : null;
        if (e == null) {
          LOG.error("committing {} write requests failed; none was applied", group.size(), ar.cause());
        }
        int code = e != null ? e.code().grpcCode : ErrorCode.UNAVAILABLE.grpcCode;
        String text = e != null ? e.getMessage()
            : "the write could not be made durable (" + ar.cause().getMessage() + "); it was not applied";
        group.forEach(m -> m.fail(code, text));
      }
      commitNext();
    });
  }

  /** Refuses new writes, finishes every queued one, then closes the store (readers are stopped before this). */
  @Override
  public void stop(Promise<Void> stopPromise) {
    drained = Promise.promise();
    commitNext();
    Heartbeats.stop(vertx, NAME);
    drained.future()
        .compose(v -> store == null ? Future.<Void>succeededFuture() : vertx.executeBlocking(() -> {
          store.close();
          return null;
        }))
        .<Void>mapEmpty()
        .onComplete(stopPromise);
  }
}
