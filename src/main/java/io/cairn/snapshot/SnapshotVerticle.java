package io.cairn.snapshot;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.SnapshotInfo;
import io.cairn.bus.SnapshotList;
import io.cairn.bus.SnapshotRequest;
import io.cairn.bus.StoreExport;
import io.cairn.config.CairnConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Takes snapshots: periodically ({@code snapshot.interval}), on demand (bus), and for one-off transfers (etcd's
 * Snapshot stream, {@code cairn snapshot save}). One at a time: requests queue. Each one asks storage for a
 * consistent view (one RocksDB snapshot: no read or write waits for it) and writes it through {@link SnapshotFile}
 * on a worker thread; kept snapshots are then pruned to {@code snapshot.retain} and copied to
 * {@code snapshot.upload.dir} when set.
 */
public final class SnapshotVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotVerticle.class);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
      .withZone(ZoneOffset.UTC);
  private static final Pattern NAME = Pattern.compile("cairn-[0-9TZ]+-r[0-9]+(-[0-9]+)?\\" + SnapshotFile.EXTENSION);
  private static final long EXPORT_TIMEOUT_MS = 60_000;

  private final CairnConfig.Snapshot config;
  private final MeterRegistry registry;
  private final Path transferDir;
  private Future<?> queue = Future.succeededFuture();
  private ClusterInfo cluster;
  private Counter taken;
  private Counter failures;
  private Counter uploadFailures;
  private final AtomicLong lastDurationMillis = new AtomicLong();
  private final AtomicLong lastSizeBytes = new AtomicLong();
  private final AtomicLong lastSuccessMillis = new AtomicLong();
  private final AtomicLong kept = new AtomicLong();

  public SnapshotVerticle(CairnConfig.Snapshot config, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
    this.transferDir = config.dir().resolve("transfer");
  }

  @Override
  public void start(Promise<Void> startPromise) {
    registerMetrics();
    vertx.eventBus().<ClusterInfo>request(Addresses.CLUSTER_INFO, null)
        .map(Message::body)
        .compose(info -> {
          cluster = info;
          return vertx.executeBlocking(this::prepareDirectories);
        })
        .onSuccess(v -> {
          vertx.eventBus().<SnapshotRequest>localConsumer(Addresses.SNAPSHOT, this::handle);
          long interval = config.interval().toMillis();
          if (interval > 0) {
            vertx.setPeriodic(interval, id -> enqueue(false).onFailure(e -> { }));
          }
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  /** Waits for the snapshot in progress, if any, so that storage never closes under it. */
  @Override
  public void stop(Promise<Void> stopPromise) {
    queue.<Void>transform(ignored -> Future.succeededFuture()).onComplete(stopPromise);
  }

  private void registerMetrics() {
    taken = Counter.builder("cairn.snapshot.taken").description("snapshots written, kept and transfer ones")
        .register(registry);
    failures = Counter.builder("cairn.snapshot.failures").description("snapshots that failed").register(registry);
    uploadFailures = Counter.builder("cairn.snapshot.upload.failures")
        .description("copies to snapshot.upload.dir that failed (the snapshot itself was kept)").register(registry);
    Gauge.builder("cairn.snapshot.last.duration", lastDurationMillis, v -> v.get() / 1000.0).baseUnit("seconds")
        .description("how long the last successful snapshot took").register(registry);
    Gauge.builder("cairn.snapshot.last.size", lastSizeBytes, AtomicLong::get).baseUnit("bytes")
        .description("size of the last successful snapshot file").register(registry);
    Gauge.builder("cairn.snapshot.last.success", lastSuccessMillis, v -> v.get() / 1000.0)
        .baseUnit("timestamp.seconds").description("when the last snapshot succeeded (epoch seconds; 0: never)")
        .register(registry);
    Gauge.builder("cairn.snapshot.kept", kept, AtomicLong::get).description("snapshot files kept in snapshot.dir")
        .register(registry);
  }

  /** Creates the directories and removes what a crash mid-snapshot may have left: partial files, transfers. */
  private Void prepareDirectories() throws IOException {
    Files.createDirectories(config.dir());
    Files.createDirectories(transferDir);
    for (Path dir : List.of(config.dir(), transferDir)) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          String name = f.getFileName().toString();
          if ((name.endsWith(".partial") || dir.equals(transferDir)) && Files.isRegularFile(f)) {
            Files.delete(f);
            LOG.info("removed {} left over by an earlier run", f);
          }
        }
      }
    }
    kept.set(listKept().size());
    return null;
  }

  private void handle(Message<SnapshotRequest> message) {
    SnapshotRequest request = message.body();
    Future<?> answer;
    if (request instanceof SnapshotRequest.Create create) {
      answer = enqueue(create.transfer());
    } else if (request instanceof SnapshotRequest.ListAll) {
      answer = vertx.executeBlocking(() -> new SnapshotList(listKept()), false);
    } else if (request instanceof SnapshotRequest.Delete delete) {
      answer = vertx.executeBlocking(() -> delete(delete.name()), false);
    } else {
      answer = vertx.executeBlocking(() -> release(((SnapshotRequest.Release) request).path()), false);
    }
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        CairnException e = ar.cause() instanceof CairnException ce ? ce
            : new CairnException(ErrorCode.INTERNAL, "snapshot failed: " + ar.cause().getMessage());
        message.fail(e.code().grpcCode, e.getMessage());
      }
    });
  }

  /** Queues one snapshot behind the ones already asked for. */
  private Future<SnapshotInfo> enqueue(boolean transfer) {
    Future<SnapshotInfo> result = queue.transform(ignored -> take(transfer));
    queue = result;
    return result;
  }

  private Future<SnapshotInfo> take(boolean transfer) {
    long started = System.nanoTime();
    return vertx.eventBus().<StoreExport>request(Addresses.STORAGE_EXPORT, null,
            new DeliveryOptions().setSendTimeout(EXPORT_TIMEOUT_MS))
        .map(Message::body)
        .compose(export -> vertx.executeBlocking(() -> {
          try (export) {
            return write(export, transfer, started);
          }
        }, false))
        .compose(info -> transfer ? Future.succeededFuture(info)
            : vertx.executeBlocking(() -> afterKept(info), false))
        .onSuccess(info -> {
          taken.increment();
          lastDurationMillis.set(info.durationMillis());
          lastSizeBytes.set(info.sizeBytes());
          lastSuccessMillis.set(System.currentTimeMillis());
          LOG.info("snapshot {} at revision {}: {} keys, {} bytes in {} ms", info.name(), info.revision(),
              info.keyCount(), info.sizeBytes(), info.durationMillis());
        })
        .onFailure(e -> {
          failures.increment();
          LOG.error("snapshot failed", e);
        })
        .recover(e -> Future.failedFuture(e instanceof CairnException ? e
            : new CairnException(ErrorCode.INTERNAL, "the snapshot failed: " + e.getMessage())));
  }

  private SnapshotInfo write(StoreExport export, boolean transfer, long startedNanos) throws IOException {
    Path dir = transfer ? transferDir : config.dir();
    String stem = "cairn-" + STAMP.format(Instant.now()) + "-r" + export.revision();
    Path target = dir.resolve(stem + SnapshotFile.EXTENSION);
    for (int n = 2; Files.exists(target); n++) {
      target = dir.resolve(stem + "-" + n + SnapshotFile.EXTENSION);
    }
    SnapshotFile.Compression compression = config.compression().equals("zstd") ? SnapshotFile.Compression.ZSTD
        : SnapshotFile.Compression.NONE;
    SnapshotFile.Header header = SnapshotFile.write(export, target, new SnapshotFile.WriteOptions(compression,
        config.zstdLevel(), cluster.clusterId(), cluster.memberId()));
    return info(target, header, Files.size(target), (System.nanoTime() - startedNanos) / 1_000_000);
  }

  private static SnapshotInfo info(Path file, SnapshotFile.Header h, long size, long durationMillis) {
    return new SnapshotInfo(file.getFileName().toString(), file.toString(), h.revision(), h.appliedIndex(),
        h.keyCount(), h.entryCount(), size, h.createdMillis(), durationMillis,
        h.compression().name().toLowerCase());
  }

  /**
   * Retention, then the upload and the upload directory's retention; an upload failure is logged and counted, the
   * snapshot stays good, and no older copy is deleted.
   */
  private SnapshotInfo afterKept(SnapshotInfo info) throws IOException {
    List<SnapshotInfo> all = listKept();
    for (SnapshotInfo old : all.subList(Math.min(config.retain(), all.size()), all.size())) {
      Files.deleteIfExists(Path.of(old.path()));
      LOG.info("deleted snapshot {} (snapshot.retain = {})", old.name(), config.retain());
    }
    kept.set(Math.min(config.retain(), all.size()));
    if (config.uploadDir() != null) {
      boolean uploaded = false;
      try {
        upload(Path.of(info.path()), config.uploadDir().resolve(info.name()));
        uploaded = true;
      } catch (IOException | RuntimeException e) {
        uploadFailures.increment();
        LOG.error("copying snapshot {} to {} (snapshot.upload.dir) failed: {}", info.name(), config.uploadDir(),
            e.toString());
      }
      if (uploaded) {
        try {
          pruneUploads();
        } catch (IOException | RuntimeException e) {
          LOG.warn("deleting old copies in {} (snapshot.upload.retain) failed: {}", config.uploadDir(), e.toString());
        }
      }
    }
    return info;
  }

  /**
   * Keeps the newest {@code snapshot.upload.retain} of Cairn's snapshots in the upload directory (newest by name:
   * the UTC time leads it); other files there are left alone.
   */
  private void pruneUploads() throws IOException {
    if (config.uploadRetain() == 0) {
      return;
    }
    List<Path> copies = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(config.uploadDir(), "*" + SnapshotFile.EXTENSION)) {
      for (Path f : files) {
        if (NAME.matcher(f.getFileName().toString()).matches()) {
          copies.add(f);
        }
      }
    }
    copies.sort(Comparator.comparing((Path f) -> f.getFileName().toString()).reversed());
    for (Path old : copies.subList(Math.min(config.uploadRetain(), copies.size()), copies.size())) {
      Files.deleteIfExists(old);
      LOG.info("deleted uploaded copy {} (snapshot.upload.retain = {})", old, config.uploadRetain());
    }
  }

  /** Copies under a temporary name, syncs, then renames: the target directory only ever shows whole files. */
  static void upload(Path source, Path target) throws IOException {
    if (!Files.isDirectory(target.getParent())) {
      throw new IOException(target.getParent() + " is not a directory");
    }
    Path partial = SnapshotFile.partialOf(target);
    try {
      try (InputStream in = Files.newInputStream(source);
           FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
           OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
        in.transferTo(out);
        channel.force(true);
      }
      SnapshotFile.moveIntoPlace(partial, target);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      throw e;
    }
  }

  /** The kept snapshots, newest first. */
  private List<SnapshotInfo> listKept() throws IOException {
    List<SnapshotInfo> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(config.dir(), "*" + SnapshotFile.EXTENSION)) {
      for (Path f : files) {
        if (!NAME.matcher(f.getFileName().toString()).matches()) {
          continue;
        }
        try {
          out.add(info(f, SnapshotFile.readHeader(f), Files.size(f), 0));
        } catch (IOException e) {
          LOG.warn("{} in {} is not a readable snapshot: {}", f.getFileName(), config.dir(), e.getMessage());
        }
      }
    }
    out.sort(Comparator.comparing(SnapshotInfo::createdMillis).thenComparing(SnapshotInfo::name).reversed());
    return out;
  }

  private SnapshotInfo delete(String name) throws IOException {
    if (!NAME.matcher(name).matches()) {
      throw new CairnException(ErrorCode.INVALID_ARGUMENT, "\"" + name + "\" is not a snapshot name; names look "
          + "like cairn-20261121T101500000Z-r42.snap (list them to see)");
    }
    Path file = config.dir().resolve(name);
    SnapshotFile.Header header;
    try {
      header = SnapshotFile.readHeader(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new CairnException(ErrorCode.NOT_FOUND, "no snapshot named " + name + " in " + config.dir());
    }
    SnapshotInfo info = info(file, header, Files.size(file), 0);
    Files.delete(file);
    kept.set(listKept().size());
    return info;
  }

  private Void release(String path) throws IOException {
    Path file = Path.of(path).toAbsolutePath().normalize();
    if (!file.getParent().equals(transferDir)) {
      throw new CairnException(ErrorCode.INVALID_ARGUMENT, path + " is not a transfer snapshot");
    }
    Files.deleteIfExists(file);
    return null;
  }
}
