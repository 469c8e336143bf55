package io.cairn.ops;

import io.cairn.Version;
import io.cairn.bus.Addresses;
import io.cairn.bus.AlarmReply;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.Listeners;
import io.cairn.bus.StorageStatus;
import io.cairn.config.CairnConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTP answers about the server's health, version and metrics, in etcd's formats where etcd has one. The ops
 * port serves them all; the gRPC port serves etcd's {@code /health}, {@code /version} and {@code /metrics} to plain
 * HTTP requests too, as etcd's client port does.
 */
public final class Probes {

  private static final DeliveryOptions CHECK = new DeliveryOptions().setSendTimeout(2000);

  private final Vertx vertx;
  private final CairnConfig config;
  private final PrometheusMeterRegistry registry;

  public Probes(Vertx vertx, CairnConfig config, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
  }

  /** Serves the etcd endpoints to a plain HTTP request; false when the path is not one of them. */
  public boolean serveEtcdEndpoint(HttpServerRequest request) {
    if (request.method() != HttpMethod.GET) {
      return false;
    }
    switch (request.path()) {
      case "/health" -> health(request);
      case "/version" -> version(request);
      case "/metrics" -> metrics(request);
      default -> {
        return false;
      }
    }
    return true;
  }

  public static JsonObject versionJson() {
    return new JsonObject()
        .put("cairn", Version.VERSION)
        .put("etcdserver", Version.ETCD_COMPATIBLE)
        .put("etcdcluster", Version.ETCD_CLUSTER);
  }

  void version(HttpServerRequest request) {
    request.response().putHeader("content-type", "application/json").end(versionJson().encode());
  }

  /**
   * Liveness: the process answers, every event loop has stamped its heartbeat recently, and no worker has been in
   * one piece of blocking work (the writer's commit) for longer than {@link Heartbeats#BUSY_LIMIT_MS}.
   */
  void livez(HttpServerRequest request) {
    List<String> stale = new ArrayList<>();
    Heartbeats.beats(vertx).forEach((name, beat) -> {
      if (beat.stale()) {
        stale.add(name + (beat.busy() ? " (blocked in one commit for " : " (event loop unresponsive for ")
            + beat.ageMs() + " ms)");
      }
    });
    if (stale.isEmpty()) {
      request.response().putHeader("content-type", "text/plain").end("ok\n");
    } else {
      request.response().setStatusCode(503).putHeader("content-type", "text/plain")
          .end("livez check failed: " + String.join(", ", stale) + "\n");
    }
  }

  /** Each readiness check by name, with null for a pass or the reason it failed; and the raised alarms. */
  public record Readiness(Map<String, String> checks, List<AlarmReply.Alarm> alarms) {
    public boolean ready() {
      return checks.values().stream().allMatch(java.util.Objects::isNull);
    }
  }

  public Future<Readiness> readiness() {
    Map<String, String> checks = new LinkedHashMap<>();
    List<AlarmReply.Alarm> alarms = new ArrayList<>();
    Future<Void> storage = vertx.eventBus().<StorageStatus>request(Addresses.STORAGE_STATUS, null, CHECK)
        .map(Message::body)
        .map(s -> {
          checks.put("storage", !s.open() ? "the store is not open" : s.writeFailure());
          alarms.addAll(s.alarms());
          return (Void) null;
        })
        .otherwise(e -> {
          checks.put("storage", "no answer from storage (" + e.getMessage() + ")");
          return null;
        });
    Future<Void> cluster = vertx.eventBus().<ClusterInfo>request(Addresses.CLUSTER_INFO, null, CHECK)
        .map(m -> {
          checks.put("cluster", m.body().leaderId() != 0 ? null : "no leader");
          return (Void) null;
        })
        .otherwise(e -> {
          checks.put("cluster", "no answer from the cluster verticle (" + e.getMessage() + ")");
          return null;
        });
    return Future.join(storage, cluster).transform(ignored -> {
      long fronts = Listeners.all(vertx).keySet().stream().filter(n -> n.startsWith("grpc-front-")).count();
      checks.put("grpc-front", fronts >= config.front().instances() ? null
          : fronts + " of " + config.front().instances() + " gRPC fronts are listening");
      Map<String, String> ordered = new LinkedHashMap<>();
      for (String name : List.of("storage", "cluster", "grpc-front")) {
        ordered.put(name, checks.get(name));
      }
      return Future.succeededFuture(new Readiness(ordered, alarms));
    });
  }

  /** Readiness: storage open, a leader known, every front listening. {@code ?verbose} lists each check. */
  void readyz(HttpServerRequest request) {
    boolean verbose = request.params().contains("verbose");
    readiness().onSuccess(readiness -> {
      StringBuilder body = new StringBuilder();
      List<String> failed = new ArrayList<>();
      readiness.checks().forEach((name, failure) -> {
        if (failure == null) {
          body.append("[+]").append(name).append(" ok\n");
        } else {
          failed.add(name + ": " + failure);
          body.append("[-]").append(name).append(" failed: ").append(failure).append('\n');
        }
      });
      String text;
      if (failed.isEmpty()) {
        text = verbose ? body + "readyz check passed\n" : "ok\n";
      } else {
        text = verbose ? body + "readyz check failed\n" : "readyz check failed: " + String.join("; ", failed) + "\n";
      }
      request.response().setStatusCode(failed.isEmpty() ? 200 : 503).putHeader("content-type", "text/plain")
          .end(text);
    });
  }

  /**
   * etcd's format: {@code {"health":"true"}}, or 503 with {@code "false"} and the reason. As in etcd, a raised
   * alarm makes the member unhealthy unless {@code ?exclude=NOSPACE} (or CORRUPT) names it.
   */
  void health(HttpServerRequest request) {
    List<String> excluded = request.params().getAll("exclude");
    readiness().onSuccess(readiness -> {
      List<String> failed = new ArrayList<>();
      for (AlarmReply.Alarm alarm : readiness.alarms()) {
        if (!excluded.contains(alarm.type().name())) {
          failed.add("ALARM " + alarm.type().name());
        }
      }
      readiness.checks().forEach((name, failure) -> {
        if (failure != null) {
          failed.add(name + ": " + failure);
        }
      });
      JsonObject body = new JsonObject().put("health", failed.isEmpty() ? "true" : "false")
          .put("reason", String.join("; ", failed));
      request.response().setStatusCode(failed.isEmpty() ? 200 : 503)
          .putHeader("content-type", "application/json").end(body.encode());
    });
  }

  void metrics(HttpServerRequest request) {
    vertx.executeBlocking(registry::scrape, false).onComplete(ar -> {
      if (ar.succeeded()) {
        request.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      } else {
        request.response().setStatusCode(500).end("scraping metrics failed: " + ar.cause().getMessage());
      }
    });
  }
}
