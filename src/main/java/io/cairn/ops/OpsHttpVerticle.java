package io.cairn.ops;

import io.cairn.Version;
import io.cairn.bus.Addresses;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.Listeners;
import io.cairn.bus.StorageStatus;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP ops port: Kubernetes-style probes, an etcd-style {@code /health}, Prometheus {@code /metrics} and
 * {@code /version}. It learns the state of the other verticles through the bus and the shared registries only.
 */
public final class OpsHttpVerticle extends AbstractVerticle {

  private static final String NAME = "ops-http";
  /** An event loop that has not stamped its heartbeat for this long is reported as unresponsive. */
  static final long STALE_MS = 5 * Heartbeats.INTERVAL_MS;
  private static final DeliveryOptions CHECK = new DeliveryOptions().setSendTimeout(2000);

  private final CairnConfig config;
  private final PrometheusMeterRegistry registry;
  private HttpServer server;

  public OpsHttpVerticle(CairnConfig config, PrometheusMeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  @Override
  public void start(Promise<Void> startPromise) {
    Router router = Router.router(vertx);
    router.get("/livez").handler(this::livez);
    router.get("/healthz").handler(this::livez);
    router.get("/readyz").handler(this::readyz);
    router.get("/health").handler(this::health);
    router.get("/metrics").handler(this::metrics);
    router.get("/version").handler(ctx -> ctx.json(versionJson()));
    server = vertx.createHttpServer().requestHandler(router);
    server.listen(config.http().port(), config.http().host())
        .recover(e -> Future.failedFuture(
            ConfigException.ifPortInUse(e, "http.port", config.http().host(), config.http().port())))
        .onSuccess(s -> {
          Listeners.listening(vertx, NAME, config.http().host() + ":" + s.actualPort());
          Heartbeats.start(vertx, NAME);
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  public static JsonObject versionJson() {
    return new JsonObject()
        .put("cairn", Version.VERSION)
        .put("etcdserver", Version.ETCD_COMPATIBLE)
        .put("etcdcluster", Version.ETCD_CLUSTER);
  }

  /** Liveness: the process answers and every event loop has stamped its heartbeat recently. */
  private void livez(RoutingContext ctx) {
    List<String> stale = new ArrayList<>();
    Heartbeats.ages(vertx).forEach((name, age) -> {
      if (age > STALE_MS) {
        stale.add(name + " (event loop unresponsive for " + age + " ms)");
      }
    });
    if (stale.isEmpty()) {
      ctx.response().putHeader("content-type", "text/plain").end("ok\n");
    } else {
      ctx.response().setStatusCode(503).putHeader("content-type", "text/plain")
          .end("livez check failed: " + String.join(", ", stale) + "\n");
    }
  }

  private Future<Map<String, String>> readinessFailures() {
    Map<String, String> checks = new LinkedHashMap<>();
    Future<Void> storage = vertx.eventBus().<StorageStatus>request(Addresses.STORAGE_STATUS, null, CHECK)
        .map(Message::body)
        .map(s -> {
          checks.put("storage", s.open() ? null : "the store is not open");
          return (Void) null;
        })
        .otherwise(e -> {
          checks.put("storage", "no answer from storage (" + e.getMessage() + ")");
          return null;
        });
    Future<Void> cluster = vertx.eventBus().<ClusterInfo>request(Addresses.CLUSTER_INFO, null, CHECK)
        .<Void>mapEmpty()
        .map(v -> {
          checks.put("cluster", null);
          return v;
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
      return Future.succeededFuture(ordered);
    });
  }

  /** Readiness: storage open, cluster identity known, every front listening. {@code ?verbose} lists each. */
  private void readyz(RoutingContext ctx) {
    boolean verbose = ctx.request().params().contains("verbose");
    readinessFailures().onSuccess(checks -> {
      StringBuilder body = new StringBuilder();
      List<String> failed = new ArrayList<>();
      checks.forEach((name, failure) -> {
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
      ctx.response().setStatusCode(failed.isEmpty() ? 200 : 503).putHeader("content-type", "text/plain").end(text);
    });
  }

  /** etcd's format: {@code {"health":"true"}}, or 503 with {@code "false"} and the reason. */
  private void health(RoutingContext ctx) {
    readinessFailures().onSuccess(checks -> {
      List<String> failed = new ArrayList<>();
      checks.forEach((name, failure) -> {
        if (failure != null) {
          failed.add(name + ": " + failure);
        }
      });
      JsonObject body = new JsonObject().put("health", failed.isEmpty() ? "true" : "false")
          .put("reason", String.join("; ", failed));
      ctx.response().setStatusCode(failed.isEmpty() ? 200 : 503);
      ctx.json(body);
    });
  }

  private void metrics(RoutingContext ctx) {
    vertx.executeBlocking(registry::scrape, false).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      } else {
        ctx.fail(ar.cause());
      }
    });
  }

  @Override
  public void stop(Promise<Void> stopPromise) {
    Listeners.closed(vertx, NAME);
    Heartbeats.stop(vertx, NAME);
    if (server == null) {
      stopPromise.complete();
      return;
    }
    server.shutdown(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS).onComplete(stopPromise);
  }
}
