package io.cairn.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.util.Map;
import java.util.TreeMap;

/**
 * Each verticle stamps the time on its own event loop once a second; liveness fails when a stamp grows old, which
 * is what a blocked or starved event loop looks like from outside. A worker verticle doing the blocking work it
 * exists for (the writer in a commit) marks itself {@link #busy} meanwhile, and counts as alive.
 */
public final class Heartbeats {

  public static final long INTERVAL_MS = 1000;
  private static final String MAP = "cairn.heartbeats";
  private static final long BUSY = Long.MAX_VALUE;

  private Heartbeats() {}

  /** Starts stamping on the caller's context; returns the timer id (cancelled with the verticle). */
  public static long start(Vertx vertx, String name) {
    LocalMap<String, Long> map = vertx.sharedData().getLocalMap(MAP);
    map.put(name, System.currentTimeMillis());
    return vertx.setPeriodic(INTERVAL_MS, id -> map.put(name, System.currentTimeMillis()));
  }

  /** The calling worker verticle is in blocking work it was deployed for; {@link #stamp} when it is done. */
  public static void busy(LocalMap<String, Long> stamps, String name) {
    stamps.put(name, BUSY);
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

  /** Name → milliseconds since its last stamp. */
  public static Map<String, Long> ages(Vertx vertx) {
    long now = System.currentTimeMillis();
    Map<String, Long> ages = new TreeMap<>();
    vertx.sharedData().<String, Long>getLocalMap(MAP)
        .forEach((name, at) -> ages.put(name, at == BUSY ? 0 : now - at));
    return ages;
  }
}
