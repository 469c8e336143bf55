package io.cairn.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** The validated configuration, one record per section. Build it with {@link ConfigLoader}. */
public record CairnConfig(Grpc grpc, Http http, Front front, Storage storage, Limits limits, Watch watch,
                          Stream stream, Snapshot snapshot, Metrics metrics, Duration shutdownTimeout, Log log) {

  public record Grpc(String host, int port) {}

  public record Http(String host, int port) {}

  /**
   * {@code maxConnections} 0: derived from the process's open-file limit ({@code ConnectionLimit});
   * {@code maxInflightBytes} 0: derived from the maximum heap ({@code RpcGuard.defaultMaxBytes}).
   */
  public record Front(int instances, int maxInflightPerConnection, int maxInflight, int maxConnections,
                      long maxInflightBytes) {}

  /** {@code maxReadBytes} 0: derived from the maximum heap ({@code MvccStore}). */
  public record Storage(Path dataDir, int readers, boolean sync, int maxPendingWrites, int groupCommitMax,
                        long blockCacheSize, long quotaBytes, int inlineReadKeys, long maxReadBytes) {}

  public record Limits(int maxKeySize, int maxValueSize, int maxBatchOps, int maxRequestSize, int maxRangeResults,
                       int maxTxnOps, int maxUpdateKeys, int maxLeases) {}

  /** {@code maxFrontBacklogBytes} 0: derived from the maximum heap ({@code WatchHub.defaultMaxFrontBacklogBytes}). */
  public record Watch(Duration progressInterval, int maxBacklogBytes, long maxFrontBacklogBytes,
                      Duration stallTimeout, Duration crowdedStallTimeout, long maxFrontWatcherBytes) {}

  /** {@code maxFrontBytes} 0: derived from the maximum heap ({@code StreamRoom.defaultMaxBytes}). */
  public record Stream(int chunkBytes, int chunkKeys, int interactiveMaxInflight, Duration idleTimeout,
                       long maxFrontBytes) {}

  /** {@code uploadDir} is null when uploads are off; {@code uploadRetain} 0 keeps every uploaded copy. */
  public record Snapshot(Path dir, Duration interval, int retain, String compression, int zstdLevel,
                         Path uploadDir, int uploadRetain) {}

  public record Metrics(boolean vertxDetail) {}

  public record Log(String format, String level) {}

  private static Snapshot snapshot(Map<String, Object> v) {
    Path dataDir = Path.of((String) v.get("storage.data-dir")).toAbsolutePath().normalize();
    String dir = (String) v.get("snapshot.dir");
    String upload = (String) v.get("snapshot.upload.dir");
    return new Snapshot(dir.isEmpty() ? dataDir.resolve("snapshots") : Path.of(dir).toAbsolutePath().normalize(),
        (Duration) v.get("snapshot.interval"), (int) v.get("snapshot.retain"), (String) v.get("snapshot.compression"),
        (int) v.get("snapshot.zstd-level"), upload.isEmpty() ? null : Path.of(upload).toAbsolutePath().normalize(),
        (int) v.get("snapshot.upload.retain"));
  }

  /** Builds the record from converted values keyed by their dotted names (every key present). */
  static CairnConfig of(Map<String, Object> v) {
    return new CairnConfig(
        new Grpc((String) v.get("grpc.host"), (int) v.get("grpc.port")),
        new Http((String) v.get("http.host"), (int) v.get("http.port")),
        new Front((int) v.get("front.instances"), (int) v.get("front.max-inflight-per-connection"),
            (int) v.get("front.max-inflight"), (int) v.get("front.max-connections"),
            (long) v.get("front.max-inflight-bytes")),
        new Storage(Path.of((String) v.get("storage.data-dir")).toAbsolutePath().normalize(),
            (int) v.get("storage.readers"), (boolean) v.get("storage.sync"),
            (int) v.get("storage.max-pending-writes"), (int) v.get("storage.group-commit-max"),
            (int) v.get("storage.block-cache-size"), (long) v.get("storage.quota-bytes"),
            (int) v.get("storage.inline-read-keys"), (long) v.get("storage.max-read-bytes")),
        new Limits((int) v.get("limits.max-key-size"), (int) v.get("limits.max-value-size"),
            (int) v.get("limits.max-batch-ops"), (int) v.get("limits.max-request-size"),
            (int) v.get("limits.max-range-results"), (int) v.get("limits.max-txn-ops"),
            (int) v.get("limits.max-update-keys"), (int) v.get("limits.max-leases")),
        new Watch((Duration) v.get("watch.progress-interval"), (int) v.get("watch.max-backlog-bytes"),
            (long) v.get("watch.max-front-backlog-bytes"), (Duration) v.get("watch.stall-timeout"),
            (Duration) v.get("watch.crowded-stall-timeout"), (long) v.get("watch.max-front-watcher-bytes")),
        new Stream((int) v.get("stream.chunk-bytes"), (int) v.get("stream.chunk-keys"),
            (int) v.get("stream.interactive-max-inflight"), (Duration) v.get("stream.idle-timeout"),
            (long) v.get("stream.max-front-bytes")),
        snapshot(v),
        new Metrics((boolean) v.get("metrics.vertx-detail")),
        (Duration) v.get("shutdown.timeout"),
        new Log((String) v.get("log.format"), (String) v.get("log.level")));
  }
}
