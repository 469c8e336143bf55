package io.cairn.storage;

import io.cairn.bus.Addresses;
import io.cairn.bus.AlarmReply;
import io.cairn.bus.AlarmRequest;
import io.cairn.bus.CairnException;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.CommittedEvents;
import io.cairn.bus.DefragmentRequest;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.KvOp;
import io.cairn.bus.LocalCodec;
import io.cairn.bus.KvResult;
import io.cairn.bus.LeaseAnswer;
import io.cairn.bus.LeaseQuery;
import io.cairn.bus.MvccErrors;
import io.cairn.bus.StorageStatus;
import io.cairn.bus.WatchInterest;
import io.cairn.bus.WriteBatch;
import io.cairn.bus.WriteBatchReply;
import io.cairn.bus.WriteReply;
import io.cairn.bus.WriteRequest;
import io.cairn.config.CairnConfig;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.shareddata.LocalMap;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The single writer, a worker verticle. It opens the store, deploys the readers, and commits writes in groups:
 * while one synced RocksDB write is in progress, the requests that arrive queue up behind it on this verticle's
 * context and go together into the next one, so a sync is shared by every writer waiting for it and durability
 * does not serialize throughput. It commits on its own thread, where blocking is allowed: a write reaches its sync
 * in one thread hand-off instead of two. That thread is always the same one (a pool of one, {@link
 * #deploymentOptions()}): with the shared worker pool each commit woke whichever of its threads had waited longest,
 * and its caches were cold. Longer jobs (compaction, defragmentation, exports, size checks) run on a pool of their
 * own so that commits never wait behind them. It also keeps the lease clock (expiring leases through the same
 * queue), the alarms and the space quota, and publishes every commit's events while a watch stream is open.
 */
public final class StorageVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(StorageVerticle.class);
  private static final String NAME = "storage-writer";
  private static final String WRITER_POOL = "cairn-storage-writer";
  private static final String JOBS_POOL = "cairn-storage-jobs";
  private static final int JOBS_POOL_SIZE = 4;
  private static final long LEASE_TICK_MS = 250;
  private static final long SIZE_CHECK_INTERVAL_NANOS = 250_000_000L;
  private static final String INLINE_READS_HELP = "reads a front offered to answer on its event loop from memory "
      + "(storage.inline-read-keys), by outcome: answered there, or declined (on disk, too large, not a plain read) "
      + "and sent to a reader";

  /** A write waiting for its group commit; the reply goes to whoever asked (a bus message, or the lease clock). */
  private record PendingWrite(List<KvOp> ops, Promise<WriteReply> reply) {
    boolean isCompaction() {
      return ops.size() == 1 && ops.get(0) instanceof KvOp.Compact;
    }
  }

  private final CairnConfig.Storage config;
  private final Duration cursorIdleTimeout;
  private final MeterRegistry registry;
  private final ArrayDeque<PendingWrite> pending = new ArrayDeque<>();
  private final LeaseClock leaseClock = new LeaseClock();
  private final long maxLeases;
  /** Lease grants queued or being committed: they count against {@code limits.max-leases} already. */
  private long grantsQueued;
  private final List<AlarmReply.Alarm> alarms = new ArrayList<>();
  /** The raised alarms as last saved, for the metrics page (read off this verticle's context). */
  private volatile List<AlarmReply.Alarm> savedAlarms = List.of();
  private boolean committing;
  private Promise<Void> drained;
  private MvccStore store;
  private long memberId;
  private volatile long dbSizeBytes;
  private volatile long dbSizeInUseBytes;
  /** Set while group commits fail in the store (read off this verticle's context by status requests). */
  private volatile FailingWrites failingWrites;
  private long lastSizeCheckNanos;
  private DistributionSummary groupSizes;
  private Counter writeFailures;
  private Counter failedProposals;
  private Timer walFsyncs;
  private Timer backendCommits;
  private LocalMap<String, Long> heartbeats;
  private WorkerExecutor jobs;
  private WatchInterest watchInterest;

  public StorageVerticle(CairnConfig.Storage config, Duration cursorIdleTimeout, long maxLeases,
                         MeterRegistry registry) {
    this.config = config;
    this.cursorIdleTimeout = cursorIdleTimeout;
    this.maxLeases = maxLeases;
    this.registry = registry;
  }

  /** How to deploy it: a worker verticle whose context always runs on the same thread. */
  public static DeploymentOptions deploymentOptions() {
    return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
        .setWorkerPoolName(WRITER_POOL).setWorkerPoolSize(1);
  }

  @Override
  public void start(Promise<Void> startPromise) {
    jobs = vertx.createSharedWorkerExecutor(JOBS_POOL, JOBS_POOL_SIZE);
    vertx.eventBus().<ClusterInfo>request(Addresses.CLUSTER_INFO, null)
        .map(m -> m.body().memberId())
        .otherwise(0L)
        .compose(member -> {
          memberId = member;
          return vertx.executeBlocking(() -> MvccStore.open(config));
        })
        .compose(opened -> {
          store = opened;
          watchInterest = new WatchInterest(opened::revision);
          return vertx.executeBlocking(() -> {
            alarms.addAll(store.alarms());
            savedAlarms = List.copyOf(alarms);
            long now = System.nanoTime();
            store.leases().forEach((id, ttl) -> leaseClock.granted(id, ttl, now));
            return null;
          });
        })
        .compose(v -> {
          registerMetrics();
          var bus = vertx.eventBus();
          bus.<WriteRequest>localConsumer(Addresses.STORAGE_WRITE, this::enqueue);
          bus.<WriteBatch>localConsumer(Addresses.STORAGE_WRITE_BATCH, this::enqueueBatch);
          bus.localConsumer(Addresses.STORAGE_STATUS, msg -> msg.reply(status()));
          bus.<LeaseQuery>localConsumer(Addresses.STORAGE_LEASE, this::answerLease);
          bus.<AlarmRequest>localConsumer(Addresses.STORAGE_ALARM, msg -> msg.reply(alarm(msg.body())));
          bus.<DefragmentRequest>localConsumer(Addresses.STORAGE_DEFRAGMENT, this::defragment);
          bus.localConsumer(Addresses.STORAGE_EXPORT, this::export);
          bus.localConsumer(Addresses.STORAGE_WATCH_INTEREST, msg -> msg.reply(watchInterest));
          // With storage.inline-read-keys 0 the fronts get nothing to offer their reads to.
          bus.localConsumer(Addresses.STORAGE_INLINE_READS, msg -> msg.reply(config.inlineReadKeys() == 0 ? null
              : store.inlineReads(config.inlineReadKeys()),
              new DeliveryOptions().setCodecName(LocalCodec.INTERFACE_CODEC)));
          heartbeats = Heartbeats.stamps(vertx);
          Heartbeats.start(vertx, NAME);
          refreshSize();
          vertx.setPeriodic(1000, id -> refreshSize());
          vertx.setPeriodic(LEASE_TICK_MS, id -> expireLeases());
          vertx.setPeriodic(1000, id -> closeIdleCursors());
          return vertx.deployVerticle(() -> new StorageReaderVerticle(store),
              new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER).setInstances(config.readers()));
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  private void registerMetrics() {
    Gauge.builder("cairn.storage.revision", store, MvccStore::revision)
        .description("latest committed store revision").register(registry);
    Gauge.builder("cairn.storage.compact.revision", store, MvccStore::compactRevision)
        .description("history before this revision has been compacted away").register(registry);
    Gauge.builder("cairn.storage.keys", store, MvccStore::keyCount)
        .description("keys currently stored").register(registry);
    Gauge.builder("cairn.storage.leases", leaseClock, LeaseClock::size)
        .description("leases currently granted").register(registry);
    Gauge.builder("cairn.storage.db.size", this, v -> v.dbSizeBytes).baseUnit("bytes")
        .description("database size: SST files plus memtables").register(registry);
    Gauge.builder("cairn.storage.quota", config, CairnConfig.Storage::quotaBytes).baseUnit("bytes")
        .description("database size past which the NOSPACE alarm is raised").register(registry);
    Gauge.builder("cairn.storage.cursors", store, MvccStore::openCursors)
        .description("streaming reads holding a view of the store open").register(registry);
    Gauge.builder("cairn.storage.write.queue", pending, ArrayDeque::size)
        .description("write requests waiting for the next group commit").register(registry);
    FunctionCounter.builder("cairn.storage.inline.reads", store, MvccStore::inlineReadsAnswered)
        .tag("outcome", "answered")
        .description(INLINE_READS_HELP)
        .register(registry);
    FunctionCounter.builder("cairn.storage.inline.reads", store, MvccStore::inlineReadsDeclined)
        .tag("outcome", "declined")
        .description(INLINE_READS_HELP)
        .register(registry);
    for (AlarmRequest.AlarmType type : AlarmRequest.AlarmType.values()) {
      if (type != AlarmRequest.AlarmType.NONE) {
        Gauge.builder("cairn.storage.alarms", this, v -> v.savedAlarms.stream().filter(a -> a.type() == type).count())
            .tag("type", type.name())
            .description("raised alarms (etcd's Maintenance/Alarm); NOSPACE refuses writes that add data")
            .register(registry);
      }
    }
    groupSizes = DistributionSummary.builder("cairn.storage.group.commit.requests")
        .description("write requests committed together in one synced write batch").register(registry);
    writeFailures = Counter.builder("cairn.storage.write.failures")
        .description("group commits that failed in the store (none of their requests was applied)")
        .register(registry);
    registerEtcdMetrics();
  }

  /**
   * etcd's storage metrics under its names, for its dashboards and alerts. Where etcd has two steps Cairn has one:
   * a proposal is a write request, committed and applied in the same group commit ({@code appliedIndex}); the
   * write-ahead log's fsync is the group's synced RocksDB write (recorded only with {@code storage.sync} on), and
   * the backend commit is the whole group commit, apply and write.
   */
  private void registerEtcdMetrics() {
    for (String name : List.of("etcd.mvcc.db.total.size.in", "etcd.debugging.mvcc.db.total.size.in")) {
      Gauge.builder(name, this, v -> v.dbSizeBytes).baseUnit("bytes")
          .description("Total size of the underlying database physically allocated in bytes.").register(registry);
    }
    Gauge.builder("etcd.mvcc.db.total.size.in.use.in", this, v -> v.dbSizeInUseBytes).baseUnit("bytes")
        .description("Total size of the underlying database logically in use in bytes.").register(registry);
    Gauge.builder("etcd.server.quota.backend", config, CairnConfig.Storage::quotaBytes).baseUnit("bytes")
        .description("Current backend storage quota size in bytes.").register(registry);
    Gauge.builder("etcd.debugging.mvcc.current.revision", store, MvccStore::revision)
        .description("The current revision of store.").register(registry);
    Gauge.builder("etcd.debugging.mvcc.compact.revision", store,
            s -> s.compactRevision() == 0 ? -1 : s.compactRevision())
        .description("The revision of the last compaction in store.").register(registry);
    FunctionCounter.builder("etcd.server.proposals.committed", store, MvccStore::appliedIndex)
        .description("The total number of consensus proposals committed.").register(registry);
    FunctionCounter.builder("etcd.server.proposals.applied", store, MvccStore::appliedIndex)
        .description("The total number of consensus proposals applied.").register(registry);
    Gauge.builder("etcd.server.proposals.pending", pending, ArrayDeque::size)
        .description("The current number of pending proposals to commit.").register(registry);
    failedProposals = Counter.builder("etcd.server.proposals.failed")
        .description("The total number of failed proposals seen.").register(registry);
    walFsyncs = etcdDiskTimer("etcd.disk.wal.fsync.duration", "The latency distributions of fsync called by WAL.");
    backendCommits = etcdDiskTimer("etcd.disk.backend.commit.duration",
        "The latency distributions of commit called by backend.");
  }

  /** A histogram with etcd's disk buckets: 1 ms doubling to 8.192 s. */
  private Timer etcdDiskTimer(String name, String description) {
    Duration[] buckets = new Duration[14];
    for (int i = 0; i < buckets.length; i++) {
      buckets[i] = Duration.ofMillis(1L << i);
    }
    return Timer.builder(name).description(description).serviceLevelObjectives(buckets).register(registry);
  }

  /** Hands out a consistent view of the whole store; taking it costs one RocksDB snapshot, nothing blocks. */
  private void export(Message<Object> message) {
    jobs.executeBlocking(store::export, false).onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result(), new DeliveryOptions().setCodecName(LocalCodec.INTERFACE_CODEC));
      } else {
        CairnException e = CairnException.from(ar.cause());
        message.fail(e.code().grpcCode, "exporting the store failed: " + e.getMessage());
      }
    });
  }

  private void closeIdleCursors() {
    if (store != null && store.isOpen()) {
      int closed = store.closeIdleCursors(cursorIdleTimeout.toMillis());
      if (closed > 0) {
        LOG.warn("released {} streaming read(s) idle longer than {} ms (stream.idle-timeout)", closed,
            cursorIdleTimeout.toMillis());
      }
    }
  }

  private void refreshSize() {
    if (store == null || !store.isOpen()) {
      return;
    }
    lastSizeCheckNanos = System.nanoTime();
    jobs.executeBlocking(store::approximateSizes, false)
        .onSuccess(sizes -> {
          long size = sizes.totalBytes();
          dbSizeBytes = size;
          dbSizeInUseBytes = sizes.inUseBytes();
          if (size > config.quotaBytes() && !hasAlarm(AlarmRequest.AlarmType.NOSPACE)) {
            LOG.warn("the database ({} bytes) exceeds storage.quota-bytes ({}): raising the NOSPACE alarm; writes "
                + "that add data are refused until space is freed (compact, defragment) and the alarm is "
                + "disarmed", size, config.quotaBytes());
            alarm(new AlarmRequest(AlarmRequest.Action.ACTIVATE, memberId, AlarmRequest.AlarmType.NOSPACE));
          }
        })
        .onFailure(e -> LOG.debug("reading the database size failed", e));
  }

  private StorageStatus status() {
    boolean open = store != null && store.isOpen();
    FailingWrites failing = failingWrites;
    return new StorageStatus(open, open ? store.revision() : 0, open ? store.keyCount() : 0, dbSizeBytes,
        dbSizeInUseBytes, open ? store.compactRevision() : 0, open ? store.appliedIndex() : 0, List.copyOf(alarms),
        failing == null ? null : failing.describe());
  }

  private boolean hasAlarm(AlarmRequest.AlarmType type) {
    return alarms.stream().anyMatch(a -> a.type() == type);
  }

  private void enqueue(Message<WriteRequest> message) {
    List<KvOp> ops = message.body().ops();
    try {
      Promise<WriteReply> reply = Promise.promise();
      reply.future().onComplete(ar -> {
        if (ar.succeeded()) {
          message.reply(ar.result());
        } else {
          CairnException e = CairnException.from(ar.cause());
          message.fail(e.code().grpcCode, e.getMessage());
        }
      });
      submit(chooseLeaseIds(ops), reply);
    } catch (CairnException e) {
      message.fail(e.code().grpcCode, e.getMessage());
    }
  }

  /**
   * Queues every request of the batch before the next commit starts, so that they can share it, and answers once
   * all of them have an outcome.
   */
  private void enqueueBatch(Message<WriteBatch> message) {
    List<List<KvOp>> requests = message.body().requests();
    Object[] outcomes = new Object[requests.size()];
    int[] unanswered = {requests.size()};
    for (int i = 0; i < requests.size(); i++) {
      int index = i;
      Promise<WriteReply> reply = Promise.promise();
      reply.future().onComplete(ar -> {
        outcomes[index] = ar.succeeded() ? ar.result() : CairnException.from(ar.cause());
        if (--unanswered[0] == 0) {
          message.reply(new WriteBatchReply(Arrays.asList(outcomes)));
        }
      });
      try {
        queue(chooseLeaseIds(requests.get(i)), reply);
      } catch (CairnException e) {
        reply.fail(e);
      }
    }
    commitNext();
  }

  private void submit(List<KvOp> ops, Promise<WriteReply> reply) {
    queue(ops, reply);
    commitNext();
  }

  /** Admits a write into the queue, or refuses it (shutting down, queue full, out of space). */
  private void queue(List<KvOp> ops, Promise<WriteReply> reply) {
    if (drained != null) {
      throw new CairnException(ErrorCode.UNAVAILABLE, "the server is shutting down; retry on another member");
    }
    if (pending.size() >= config.maxPendingWrites()) {
      throw CairnException.exhausted("server overloaded: " + pending.size()
          + " writes are already queued (storage.max-pending-writes); retry with backoff");
    }
    if (hasAlarm(AlarmRequest.AlarmType.NOSPACE) && ops.stream().anyMatch(KvOp::grows)) {
      throw MvccErrors.noSpace();
    }
    int grants = grants(ops);
    if (grants > 0 && leaseClock.size() + grantsQueued + grants > maxLeases) {
      throw CairnException.exhausted("too many leases: " + (leaseClock.size() + grantsQueued) + " are granted "
          + "(limits.max-leases is " + maxLeases + "); revoke leases no longer needed, or raise the limit");
    }
    grantsQueued += grants;
    pending.add(new PendingWrite(ops, reply));
  }

  private static int grants(List<KvOp> ops) {
    int grants = 0;
    for (KvOp op : ops) {
      if (op instanceof KvOp.LeaseGrant) {
        grants++;
      }
    }
    return grants;
  }

  /** A lease grant without an id gets a fresh positive one here, where every lease is known. */
  private List<KvOp> chooseLeaseIds(List<KvOp> ops) {
    if (ops.stream().noneMatch(op -> op instanceof KvOp.LeaseGrant g && g.id() == 0)) {
      return ops;
    }
    List<KvOp> chosen = new ArrayList<>(ops.size());
    for (KvOp op : ops) {
      if (op instanceof KvOp.LeaseGrant g && g.id() == 0) {
        long id;
        do {
          id = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        } while (leaseClock.exists(id));
        chosen.add(new KvOp.LeaseGrant(id, g.ttlSeconds()));
      } else {
        chosen.add(op);
      }
    }
    return chosen;
  }

  /**
   * Starts the next commit unless one is running or already scheduled. The commit runs as a task of this
   * verticle's context, queued behind the requests delivered so far, so that all of them join its group.
   */
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
    committing = true;
    context.runOnContext(v -> commit());
  }

  private void commit() {
    if (pending.peek().isCompaction()) {
      PendingWrite compaction = pending.poll();
      long target = ((KvOp.Compact) compaction.ops().get(0)).revision();
      jobs.executeBlocking(() -> store.compact(target), false).onComplete(ar -> {
        committing = false;
        settle(compaction, ar.succeeded()
            ? new WriteReply(ar.result(), List.of(new KvResult.Compacted(target))) : failure(ar.cause(), 1));
        commitNext();
      });
      return;
    }
    List<PendingWrite> group = new ArrayList<>();
    List<List<KvOp>> requests = new ArrayList<>();
    while (!pending.isEmpty() && !pending.peek().isCompaction() && group.size() < config.groupCommitMax()) {
      PendingWrite write = pending.poll();
      group.add(write);
      requests.add(write.ops());
    }
    MvccStore.Applied applied = null;
    CairnException failure = null;
    Heartbeats.busy(heartbeats, NAME);
    long start = System.nanoTime();
    try {
      applied = store.apply(requests);
      if (applied.writeNanos() > 0) {
        backendCommits.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        if (config.sync()) {
          walFsyncs.record(applied.writeNanos(), TimeUnit.NANOSECONDS);
        }
      }
    } catch (RocksDBException | RuntimeException e) {
      failure = commitFailed(e, group.size());
    } finally {
      Heartbeats.stamp(heartbeats, NAME);
    }
    committing = false;
    if (failure == null) {
      int taken = applied.outcomes().size();
      if (taken < group.size()) {
        // the group ended early, holding too much: the rest go first into the next one, in order
        for (int i = group.size() - 1; i >= taken; i--) {
          pending.addFirst(group.get(i));
        }
        group = group.subList(0, taken);
      }
      groupSizes.record(taken);
      commitSucceeded();
      grantsSettled(group);
      answer(group, applied);
    } else {
      groupSizes.record(group.size());
      grantsSettled(group);
      for (PendingWrite write : group) {
        settle(write, failure);
      }
    }
    commitNext();
  }

  /** The group's grants are granted now (the lease clock counts them) or failed. */
  private void grantsSettled(List<PendingWrite> group) {
    for (PendingWrite write : group) {
      grantsQueued -= grants(write.ops());
    }
  }

  /** Gives each request of a committed group its outcome and tells the lease clock and watchers what changed. */
  private void answer(List<PendingWrite> group, MvccStore.Applied applied) {
    long now = System.nanoTime();
    applied.grantedLeases().forEach(g -> leaseClock.granted(g[0], g[1], now));
    applied.revokedLeases().forEach(leaseClock::revoked);
    for (int i = 0; i < group.size(); i++) {
      settle(group.get(i), applied.outcomes().get(i));
    }
    if ((!applied.events().isEmpty() || !applied.eventsComplete()) && watchInterest.anyStreamOpen()) {
      vertx.eventBus().publish(Addresses.STORAGE_EVENTS,
          new CommittedEvents(applied.revision(), applied.events(), applied.eventsComplete()));
    }
    if (now - lastSizeCheckNanos > SIZE_CHECK_INTERVAL_NANOS) {
      refreshSize();
    }
  }

  /**
   * Gives one write its outcome (a {@link WriteReply} or a {@link CairnException}). The reply's listeners run right
   * here; whatever one of them throws must not keep the rest of the group from their answers, nor the writer from
   * its next commit.
   */
  private static void settle(PendingWrite write, Object outcome) {
    try {
      if (outcome instanceof WriteReply reply) {
        write.reply().complete(reply);
      } else {
        write.reply().fail((CairnException) outcome);
      }
    } catch (RuntimeException e) {
      LOG.error("answering a committed write failed", e);
    }
  }

  private static CairnException failure(Throwable cause, int requests) {
    if (cause instanceof CairnException ce) {
      return ce;
    }
    LOG.error("committing {} write requests failed; none was applied", requests, cause);
    return notDurable(cause);
  }

  private static CairnException notDurable(Throwable cause) {
    return new CairnException(ErrorCode.UNAVAILABLE,
        "the write could not be made durable (" + cause.getMessage() + "); it was not applied");
  }

  /** Group commits failing in the store since {@code sinceMillis}: why the latest failed, and how many have. */
  private record FailingWrites(long sinceMillis, String lastError, long groups, long lastLoggedNanos) {
    String describe() {
      return "writes fail since " + Instant.ofEpochMilli(sinceMillis) + " (" + groups + " group commit"
          + (groups == 1 ? "" : "s") + "): " + lastError;
    }
  }

  /**
   * A group commit failed in the store. The first failure of a run is logged with its stack, the rest at most
   * every 10 s; readiness reports the run until a commit succeeds. RocksDB resumes by itself after a full disk once
   * space is freed, but keeps refusing writes after some other errors, such as a write-ahead log it could not
   * create, until it is reopened: then only a restart helps.
   */
  private CairnException commitFailed(Throwable cause, int requests) {
    if (cause instanceof CairnException ce) {
      return ce;
    }
    long now = System.nanoTime();
    FailingWrites before = failingWrites;
    if (before == null) {
      LOG.error("committing {} write requests failed; none was applied. Readiness fails until a commit succeeds",
          requests, cause);
      failingWrites = new FailingWrites(System.currentTimeMillis(), String.valueOf(cause.getMessage()), 1, now);
    } else if (now - before.lastLoggedNanos() >= TimeUnit.SECONDS.toNanos(10)) {
      LOG.error("committing {} write requests failed again, {} group commits since {}: {}", requests,
          before.groups() + 1, Instant.ofEpochMilli(before.sinceMillis()), cause.getMessage());
      failingWrites = new FailingWrites(before.sinceMillis(), String.valueOf(cause.getMessage()), before.groups() + 1,
          now);
    } else {
      failingWrites = new FailingWrites(before.sinceMillis(), String.valueOf(cause.getMessage()), before.groups() + 1,
          before.lastLoggedNanos());
    }
    writeFailures.increment();
    failedProposals.increment(requests);
    return notDurable(cause);
  }

  private void commitSucceeded() {
    FailingWrites before = failingWrites;
    if (before != null) {
      failingWrites = null;
      LOG.warn("writes succeed again after {} failed group commits since {}", before.groups(),
          Instant.ofEpochMilli(before.sinceMillis()));
    }
  }

  private void expireLeases() {
    if (drained != null || store == null) {
      return;
    }
    for (long id : leaseClock.takeExpired(System.nanoTime())) {
      Promise<WriteReply> reply = Promise.promise();
      reply.future().onFailure(e -> {
        if (MvccErrors.LEASE_NOT_FOUND.equals(e.getMessage())) {
          leaseClock.revoked(id);
        } else {
          LOG.warn("revoking expired lease {} failed, will retry: {}", id, e.getMessage());
          leaseClock.retry(id);
        }
      });
      try {
        submit(List.of(new KvOp.LeaseRevoke(id)), reply);
      } catch (CairnException e) {
        reply.tryFail(e);
      }
    }
  }

  private void answerLease(Message<LeaseQuery> message) {
    long now = System.nanoTime();
    long revision = store.revision();
    LeaseQuery query = message.body();
    if (query instanceof LeaseQuery.KeepAlive k) {
      long ttl = leaseClock.keepAlive(k.id(), now);
      message.reply(new LeaseAnswer(revision, List.of(new LeaseAnswer.Lease(k.id(), ttl, ttl, List.of()))));
    } else if (query instanceof LeaseQuery.ListAll) {
      List<LeaseAnswer.Lease> all = new ArrayList<>();
      for (long id : leaseClock.ids()) {
        all.add(new LeaseAnswer.Lease(id, leaseClock.remaining(id, now), leaseClock.granted(id), List.of()));
      }
      message.reply(new LeaseAnswer(revision, all));
    } else {
      LeaseQuery.TimeToLive t = (LeaseQuery.TimeToLive) query;
      long remaining = leaseClock.remaining(t.id(), now);
      long granted = leaseClock.granted(t.id());
      if (remaining < 0 || !t.withKeys()) {
        message.reply(new LeaseAnswer(revision,
            List.of(new LeaseAnswer.Lease(t.id(), remaining, granted, List.of()))));
        return;
      }
      jobs.executeBlocking(() -> store.read(List.of(new KvOp.LeaseKeys(t.id()))), false)
          .onSuccess(read -> {
            KvResult.LeaseKeys keys = (KvResult.LeaseKeys) read.results().get(0);
            message.reply(new LeaseAnswer(read.revision(),
                List.of(new LeaseAnswer.Lease(t.id(), remaining, granted, keys.keys()))));
          })
          .onFailure(e -> {
            CairnException ce = CairnException.from(e);
            message.fail(ce.code().grpcCode, ce.getMessage());
          });
    }
  }

  private AlarmReply alarm(AlarmRequest request) {
    long revision = store.revision();
    switch (request.action()) {
      case GET -> {
        return new AlarmReply(revision, alarms.stream()
            .filter(a -> request.type() == AlarmRequest.AlarmType.NONE || a.type() == request.type())
            .toList());
      }
      case ACTIVATE -> {
        AlarmReply.Alarm alarm = new AlarmReply.Alarm(request.memberId(), request.type());
        if (request.type() != AlarmRequest.AlarmType.NONE && !alarms.contains(alarm)) {
          alarms.add(alarm);
          saveAlarms();
        }
        return new AlarmReply(revision, List.of(alarm));
      }
      default -> {
        AlarmReply.Alarm alarm = new AlarmReply.Alarm(request.memberId(), request.type());
        if (alarms.remove(alarm)) {
          saveAlarms();
          return new AlarmReply(revision, List.of(alarm));
        }
        return new AlarmReply(revision, List.of());
      }
    }
  }

  private void saveAlarms() {
    List<AlarmReply.Alarm> snapshot = List.copyOf(alarms);
    savedAlarms = snapshot;
    jobs.executeBlocking(() -> {
      store.saveAlarms(snapshot);
      return null;
    }, false).onFailure(e -> LOG.error("saving the alarm list failed", e));
  }

  private void defragment(Message<DefragmentRequest> message) {
    jobs.executeBlocking(() -> {
      store.defragment();
      return store.approximateSizes();
    }, false).onComplete(ar -> {
      if (ar.succeeded()) {
        dbSizeBytes = ar.result().totalBytes();
        dbSizeInUseBytes = ar.result().inUseBytes();
        message.reply(status());
      } else {
        CairnException e = CairnException.from(ar.cause());
        message.fail(e.code().grpcCode, "defragmenting failed: " + e.getMessage());
      }
    });
  }

  /** Refuses new writes, finishes every queued one, then closes the store (readers are stopped before this). */
  @Override
  public void stop(Promise<Void> stopPromise) {
    drained = Promise.promise();
    commitNext();
    drained.future()
        .onComplete(v -> Heartbeats.stop(vertx, NAME))
        .compose(v -> store == null ? Future.<Void>succeededFuture() : vertx.executeBlocking(() -> {
          store.close();
          return null;
        }))
        .<Void>mapEmpty()
        .onComplete(stopPromise);
  }
}
