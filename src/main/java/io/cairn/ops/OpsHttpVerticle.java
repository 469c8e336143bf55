package io.cairn.ops;

import io.cairn.bus.Heartbeats;
import io.cairn.bus.Listeners;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;

import java.util.concurrent.TimeUnit;

/**
 * The HTTP ops port: Kubernetes-style probes, an etcd-style {@code /health}, Prometheus {@code /metrics} and
 * {@code /version}. It learns the state of the other verticles through the bus and the shared registries only.
 */
public final class OpsHttpVerticle extends AbstractVerticle {

  private static final String NAME = "ops-http";

  private final CairnConfig config;
  private final PrometheusMeterRegistry registry;
  private HttpServer server;

  public OpsHttpVerticle(CairnConfig config, PrometheusMeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  @Override
  public void start(Promise<Void> startPromise) {
    Probes probes = new Probes(vertx, config, registry);
    Router router = Router.router(vertx);
    router.get("/livez").handler(ctx -> probes.livez(ctx.request()));
    router.get("/healthz").handler(ctx -> probes.livez(ctx.request()));
    router.get("/readyz").handler(ctx -> probes.readyz(ctx.request()));
    router.get("/health").handler(ctx -> probes.health(ctx.request()));
    router.get("/metrics").handler(ctx -> probes.metrics(ctx.request()));
    router.get("/version").handler(ctx -> probes.version(ctx.request()));
    new SnapshotAdmin(vertx).mount(router);
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
