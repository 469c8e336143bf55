package io.cairn.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.util.Map;
import java.util.TreeMap;

/**
 * Each verticle stamps the time on its own event loop once a second; liveness fails when a stamp grows old, which
 * is what a blocked or starved event loop looks like from outside. A worker verticle doing the blocking work it
 * exists for (the writer in a commit) marks itself {@link #busy} meanwhile, and counts as alive for up to
 * {@link #BUSY_LIMIT_MS}: a commit that long is a disk that stopped answering, not work.
 */
public final class Heartbeats {

  public static final long INTERVAL_MS = 1000;
  /** A stamp older than this is an unresponsive verticle. */
  public static final long STALE_MS = 5 * INTERVAL_MS;
  /** Blocking work running longer than this is a hang (a sync the disk never completes). */
  public static final long BUSY_LIMIT_MS = 60_000;
  private static final String MAP = "cairn.heartbeats";

  /** How long since a verticle last stamped, or since it started the blocking work it is still in. */
  public record Beat(long ageMs, boolean busy) {
    public boolean stale() {
      return ageMs > (busy ? BUSY_LIMIT_MS : STALE_MS);
    }
  }

  private Heartbeats() {}

  /** Starts stamping on the caller's context; returns the timer id (cancelled with the verticle). */
  public static long start(Vertx vertx, String name) {
    LocalMap<String, Long> map = vertx.sharedData().getLocalMap(MAP);
    map.put(name, System.currentTimeMillis());
    return vertx.setPeriodic(INTERVAL_MS, id -> map.put(name, System.currentTimeMillis()));
  }

  /** The calling worker verticle is in blocking work it was deployed for; {@link #stamp} when it is done. */
  public static void busy(LocalMap<String, Long> stamps, String name) {
    busySince(stamps, name, System.currentTimeMillis());
  }

  /** As {@link #busy}, for work that started at {@code startedMillis}; stored negated to tell it from a stamp. */
  public static void busySince(LocalMap<String, Long> stamps, String name, long startedMillis) {
    stamps.put(name, -startedMillis);
  }

  public static void stamp(LocalMap<String, Long> stamps, String name) {
    stamps.put(name, System.currentTimeMillis());
  }

  /** The map the stamps live in, for verticles that stamp often enough to keep it at hand. */
  public static LocalMap<String, Long> stamps(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }

  public static void stop(Vertx vertx, String name) {
    vertx.sharedData().<String, Long>getLocalMap(MAP).remove(name);
  }

  /** Name → its beat: time since its last stamp, or since the start of the blocking work it is in. */
  public static Map<String, Beat> beats(Vertx vertx) {
    long now = System.currentTimeMillis();
    Map<String, Beat> beats = new TreeMap<>();
    vertx.sharedData().<String, Long>getLocalMap(MAP)
        .forEach((name, at) -> beats.put(name, at < 0 ? new Beat(now + at, true) : new Beat(now - at, false)));
    return beats;
  }
}
