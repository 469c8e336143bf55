package io.cairn.front;

import com.sun.management.UnixOperatingSystemMXBean;
import io.cairn.config.CairnConfig;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the client connections open at once on the gRPC port, across every front ({@code front.max-connections}).
 * Each connection holds a file descriptor, as does every file the store opens: a flood of connections that took
 * the process's last descriptors left RocksDB unable to create its next write-ahead log, and RocksDB then refuses
 * every write until the server restarts. A connection over the bound is closed as soon as it is accepted.
 */
public final class ConnectionLimit implements Shareable {

  private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimit.class);
  private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong lastWarnNanos = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
  /** One close handler for every connection: nothing more is allocated per connection. */
  private final Handler<Void> release = closed -> open.decrementAndGet();

  ConnectionLimit(int max) {
    this.max = max;
  }

  /** The one limit of this server's fronts. */
  public static ConnectionLimit of(Vertx vertx, CairnConfig.Front config) {
    LocalMap<String, ConnectionLimit> shared = vertx.sharedData().getLocalMap("cairn.front.connection-limit");
    ConnectionLimit limit = new ConnectionLimit(config.maxConnections() > 0 ? config.maxConnections()
        : derivedFromFileLimit(openFileLimit()));
    ConnectionLimit earlier = shared.putIfAbsent("limit", limit);
    return earlier != null ? earlier : limit;
  }

  /** The open-file limit less a tenth of it, at least 1024 and at most half, kept for the store and the JVM. */
  static int derivedFromFileLimit(long openFileLimit) {
    if (openFileLimit <= 0) {
      return Integer.MAX_VALUE;
    }
    long reserve = Math.min(openFileLimit / 2, Math.max(1024, openFileLimit / 10));
    return (int) Math.min(Integer.MAX_VALUE, openFileLimit - reserve);
  }

  private static long openFileLimit() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
        ? unix.getMaxFileDescriptorCount() : -1;
  }

  /** Takes a new connection in, or closes it when the bound is reached; true when it was taken in. */
  public boolean admit(HttpConnection connection) {
    if (open.incrementAndGet() > max) {
      open.decrementAndGet();
      long count = refused.incrementAndGet();
      long now = System.nanoTime();
      long last = lastWarnNanos.get();
      if (now - last >= WARN_INTERVAL_NANOS && lastWarnNanos.compareAndSet(last, now)) {
        LOG.warn("closing new connections: {} are open (front.max-connections); {} closed so far, latest from {}",
            max, count, connection.remoteAddress());
      }
      connection.close();
      return false;
    }
    connection.closeHandler(release);
    return true;
  }

  public int max() {
    return max;
  }

  public int open() {
    return open.get();
  }

  public long refused() {
    return refused.get();
  }
}
