package io.cairn.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.util.Map;
import java.util.TreeMap;

/**
 * Each verticle stamps the time on its own event loop once a second; liveness fails when a stamp grows old, which
 * is what a blocked or starved event loop looks like from outside.
 */
public final class Heartbeats {

  public static final long INTERVAL_MS = 1000;
  private static final String MAP = "cairn.heartbeats";

  private Heartbeats() {}

  /** Starts stamping on the caller's context; returns the timer id (cancelled with the verticle). */
  public static long start(Vertx vertx, String name) {
    LocalMap<String, Long> map = vertx.sharedData().getLocalMap(MAP);
    map.put(name, System.currentTimeMillis());
    return vertx.setPeriodic(INTERVAL_MS, id -> map.put(name, System.currentTimeMillis()));
  }

  public static void stop(Vertx vertx, String name) {
    vertx.sharedData().<String, Long>getLocalMap(MAP).remove(name);
  }

  /** Name → milliseconds since its last stamp. */
  public static Map<String, Long> ages(Vertx vertx) {
    long now = System.currentTimeMillis();
    Map<String, Long> ages = new TreeMap<>();
    vertx.sharedData().<String, Long>getLocalMap(MAP).forEach((name, at) -> ages.put(name, now - at));
    return ages;
  }
}
