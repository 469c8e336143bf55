package io.cairn.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.util.Map;
import java.util.TreeMap;

/** Servers that are accepting connections now, by name (e.g. {@code grpc-front-1}) → {@code host:port}. */
public final class Listeners {

  private static final String MAP = "cairn.listeners";

  private Listeners() {}

  public static void listening(Vertx vertx, String name, String address) {
    vertx.sharedData().<String, String>getLocalMap(MAP).put(name, address);
  }

  public static void closed(Vertx vertx, String name) {
    vertx.sharedData().<String, String>getLocalMap(MAP).remove(name);
  }

  public static Map<String, String> all(Vertx vertx) {
    LocalMap<String, String> map = vertx.sharedData().getLocalMap(MAP);
    return new TreeMap<>(map);
  }
}
