package io.cairn.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static io.cairn.config.ConfigKey.Type.BOOL;
import static io.cairn.config.ConfigKey.Type.CHOICE;
import static io.cairn.config.ConfigKey.Type.DURATION;
import static io.cairn.config.ConfigKey.Type.INT;
import static io.cairn.config.ConfigKey.Type.LONG;
import static io.cairn.config.ConfigKey.Type.OPTIONAL_STRING;
import static io.cairn.config.ConfigKey.Type.STRING;

/** Every configuration key Cairn knows, with its default. {@code conf/cairn.yaml} documents the same list. */
public final class ConfigSchema {

  private ConfigSchema() {}

  private static final int MIB = 1024 * 1024;
  private static final Supplier<Object> CORES = () -> Runtime.getRuntime().availableProcessors();

  public static final List<ConfigKey> KEYS = List.of(
      key("grpc.host", STRING, "127.0.0.1", "address the gRPC port binds to"),
      intKey("grpc.port", 7379, 0, 65535, "gRPC port for every API (0 picks a free port)"),
      key("http.host", STRING, "127.0.0.1", "address the HTTP ops port binds to"),
      intKey("http.port", 7380, 0, 65535, "HTTP ops port: probes, metrics, version (0 picks a free port)"),
      new ConfigKey("front.instances", INT, CORES, 1, 256, List.of(),
          "gRPC front verticles sharing the gRPC port (default: number of cores)"),
      intKey("front.max-inflight-per-connection", 1024, 1, 1_000_000,
          "requests one connection may have in flight; more are refused with RESOURCE_EXHAUSTED"),
      intKey("front.max-inflight", 16384, 1, 10_000_000,
          "requests one front instance may have in flight; more are refused with RESOURCE_EXHAUSTED"),
      intKey("front.max-connections", 0, 0, 10_000_000,
          "client connections open at once on the gRPC port; more are closed as they come. 0: the process's "
              + "open-file limit less a tenth of it (at least 1024, at most half) kept for storage"),
      new ConfigKey("front.max-inflight-bytes", LONG, () -> 0L, 0, 1L << 50, List.of(),
          "bytes of request messages one front instance may have in flight, counted from the moment each one's "
              + "length arrives, and of answers not yet sent; more are refused with RESOURCE_EXHAUSTED (an "
              + "interactive session's next query waits, its stream not read, and a read whose answer does not fit "
              + "runs again later, instead; a write's answer always goes out). 0: an eighth of the maximum heap, "
              + "shared out between the instances"),
      new ConfigKey("storage.max-read-bytes", LONG, () -> 0L, 0, 1L << 50, List.of(),
          "most bytes of keys and values one read may gather (an etcd Range, a native range or filter), or one "
              + "write's deletes remove or updates change; more is refused with RESOURCE_EXHAUSTED. A group commit "
              + "whose requests' events hold more takes no more requests, nor a batch of reads whose answers do. 0: a "
              + "sixteenth of the maximum heap"),
      key("storage.data-dir", STRING, "./cairn-data", "directory holding the database and the member identity"),
      new ConfigKey("storage.readers", INT, CORES, 1, 256, List.of(),
          "storage reader verticles serving reads in parallel (default: number of cores)"),
      key("storage.sync", BOOL, true,
          "sync the write-ahead log before acknowledging a write; false may LOSE the last acknowledged writes "
              + "on a crash or power loss"),
      intKey("storage.max-pending-writes", 65536, 1, 10_000_000,
          "write requests queued for the writer; more are refused with RESOURCE_EXHAUSTED"),
      intKey("storage.group-commit-max", 4096, 1, 1_000_000,
          "most write requests committed together in one synced RocksDB write batch"),
      intKey("storage.block-cache-size", 64 * MIB, 0, Integer.MAX_VALUE, "RocksDB block cache, in bytes"),
      intKey("storage.inline-read-keys", 128, 0, 100_000,
          "reads that step over at most this many keys and find them all in memory are answered on the front's "
              + "event loop instead of by a reader (0: every read goes to a reader)"),
      new ConfigKey("storage.quota-bytes", LONG, () -> 2L * 1024 * MIB, 64 * 1024, 1L << 50, List.of(),
          "database size past which the NOSPACE alarm is raised and writes that add data are refused "
              + "(etcd's --quota-backend-bytes; default 2 GiB)"),
      intKey("limits.max-key-size", 4096, 1, 1_000_000, "largest key, in bytes (the part after the collection)"),
      intKey("limits.max-value-size", MIB, 0, 64 * MIB, "largest value, in bytes"),
      intKey("limits.max-batch-ops", 128, 1, 100_000, "most queries in one ExecuteBatch"),
      intKey("limits.max-request-size", 3 * MIB / 2, 1024, 128 * MIB, "largest request message, in bytes"),
      intKey("limits.max-range-results", 10_000, 1, 10_000_000,
          "most keys one unary range of the native API returns (its limit 0 means this)"),
      intKey("limits.max-txn-ops", 128, 1, 100_000,
          "most compares, and most operations per branch, in one etcd Txn (etcd's --max-txn-ops)"),
      intKey("limits.max-update-keys", 100_000, 1, 100_000_000,
          "most values one native update may change (all in one revision); more is refused and nothing changes"),
      intKey("limits.max-leases", 0, 0, Integer.MAX_VALUE,
          "most leases granted and not yet revoked or expired; a grant past it is refused with RESOURCE_EXHAUSTED "
              + "(each lease's clock holds about 130 bytes of heap). 0: as many as a quarter of the maximum heap "
              + "holds at 128 bytes each (about a million with bin/cairn's 512 MiB)"),
      new ConfigKey("watch.progress-interval", DURATION, () -> "10m", 100, 86_400_000, List.of(),
          "how often etcd watchers that asked for progress notifications get one while idle"),
      intKey("watch.max-backlog-bytes", MIB, 64 * 1024, 1 << 30,
          "answers one etcd watch stream may have written and not yet sent; past it the stream's watchers stop "
              + "taking live events and catch up from history once the client reads again"),
      new ConfigKey("watch.max-front-backlog-bytes", LONG, () -> 0L, 0, 1L << 50, List.of(),
          "answers all the etcd watch streams of one front instance may have written and not yet sent, together; "
              + "past it a stream's watchers stop taking live events, and streams catch up from history in turn as "
              + "room comes back. 0: an eighth of the maximum heap, shared out between the instances"),
      new ConfigKey("watch.max-front-watcher-bytes", LONG, () -> 0L, 0, 1L << 50, List.of(),
          "bytes the etcd watchers of one front instance may hold together: their keys and range ends, and about "
              + "160 bytes each; a watcher created past it is answered created and canceled, with the reason. 0: a "
              + "sixteenth of the maximum heap, shared out between the instances"),
      new ConfigKey("watch.stall-timeout", DURATION, () -> "5m", 1000, 86_400_000, List.of(),
          "an etcd watch stream whose client takes nothing of its answers for this long, while its watchers wait "
              + "for it, is refused, and what it held is dropped (etcd's clients resume the watch from the last "
              + "revision they got)"),
      new ConfigKey("watch.crowded-stall-timeout", DURATION, () -> "10s", 1000, 86_400_000, List.of(),
          "the same, sooner, while the front's streams hold watch.max-front-backlog-bytes and another stream, whose "
              + "client reads, waits for the room they hold (watch.stall-timeout still applies when shorter)"),
      intKey("stream.chunk-bytes", 128 * 1024, 1024, 16 * MIB,
          "about how many bytes of keys and values one ExecuteStream chunk carries"),
      intKey("stream.chunk-keys", 1000, 1, 1_000_000, "most values one ExecuteStream chunk carries"),
      new ConfigKey("stream.max-front-bytes", LONG, () -> 0L, 0, 1L << 50, List.of(),
          "bytes of chunks all the ExecuteStream calls of one front instance may have written and their clients not "
              + "yet taken; a stream whose next chunk has no room waits, first come first served, before reading it "
              + "(each stream also holds at most sixteen chunks). 0: a sixteenth of the maximum heap, shared out between "
              + "the instances"),
      intKey("stream.interactive-max-inflight", 64, 1, 100_000,
          "queries one ExecuteInteractive stream may have unanswered; at the bound the server stops reading it"),
      new ConfigKey("stream.idle-timeout", DURATION, () -> "5m", 1000, 86_400_000, List.of(),
          "an ExecuteStream whose client takes nothing for this long while chunks wait for it is reset (the "
              + "client sees the stream closed), its chunks dropped and its view released"),
      key("snapshot.dir", OPTIONAL_STRING, "", "directory of the kept snapshots (empty: <storage.data-dir>/snapshots)"),
      new ConfigKey("snapshot.interval", DURATION, () -> "0s", 0, 31L * 86_400_000, List.of(),
          "take a snapshot this often (0s: only on demand)"),
      intKey("snapshot.retain", 5, 1, 100_000, "newest snapshots kept; older ones are deleted after each snapshot"),
      new ConfigKey("snapshot.compression", CHOICE, () -> "zstd", 0, 0, List.of("zstd", "none"),
          "how snapshot data is compressed"),
      intKey("snapshot.zstd-level", 3, 1, 19, "zstd level: higher is smaller and slower"),
      key("snapshot.upload.dir", OPTIONAL_STRING, "",
          "after each kept snapshot, also copy it here (e.g. a mounted volume); empty: no copy"),
      intKey("snapshot.upload.retain", 0, 0, 100_000,
          "newest copies of Cairn's snapshots kept in snapshot.upload.dir; older ones are deleted after each upload. "
              + "0: keep every copy"),
      key("metrics.vertx-detail", BOOL, false,
          "also export Vert.x's per-request HTTP and per-message event-bus metrics (costly under load)"),
      new ConfigKey("shutdown.timeout", DURATION, () -> "30s", 0, 3_600_000, List.of(),
          "how long in-flight requests may take to finish on SIGTERM/SIGINT (watches, keep-alives and interactive "
              + "sessions end at once, with a status clients retry on)"),
      new ConfigKey("log.format", CHOICE, () -> "text", 0, 0, List.of("text", "json"), "text or json (one object a line)"),
      new ConfigKey("log.level", CHOICE, () -> "info", 0, 0, List.of("trace", "debug", "info", "warn", "error"),
          "root log level"));

  private static final Map<String, ConfigKey> BY_NAME = new LinkedHashMap<>();

  static {
    for (ConfigKey k : KEYS) {
      BY_NAME.put(k.name(), k);
    }
  }

  public static ConfigKey find(String name) {
    return BY_NAME.get(name);
  }

  private static ConfigKey key(String name, ConfigKey.Type type, Object def, String doc) {
    return new ConfigKey(name, type, () -> def, 0, 0, List.of(), doc);
  }

  private static ConfigKey intKey(String name, int def, long min, long max, String doc) {
    return new ConfigKey(name, INT, () -> def, min, max, List.of(), doc);
  }
}
