package io.cairn;

import io.cairn.bus.LocalCodec;
import io.cairn.cluster.ClusterVerticle;
import io.cairn.config.CairnConfig;
import io.cairn.front.ConnectionLimit;
import io.cairn.front.QueryFrontVerticle;
import io.cairn.ops.OpsHttpVerticle;
import io.cairn.ops.ProcessMetrics;
import io.cairn.snapshot.SnapshotVerticle;
import io.cairn.storage.LeaseClock;
import io.cairn.storage.StorageVerticle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Verticle;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.micrometer.MicrometerMetricsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A running Cairn server: one Vert.x instance with the cluster, storage, ops and gRPC front verticles deployed in
 * dependency order, and stopped in the reverse order: the fronts stop accepting and drain first (readiness turns
 * false while the ops port still answers), storage commits what is queued and closes last.
 */
public final class CairnServer {

  private static final Logger LOG = LoggerFactory.getLogger(CairnServer.class);

  private final CairnConfig config;
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final String registryName = "cairn-" + java.util.UUID.randomUUID();
  private final List<QueryFrontVerticle> fronts = new CopyOnWriteArrayList<>();
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private OpsHttpVerticle ops;
  private Future<Void> stopping;

  private CairnServer(CairnConfig config) {
    this.config = config;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ProcessMetrics().bindTo(registry);
    this.vertx = Vertx.builder()
        .with(vertxOptions().setMetricsOptions(metricsOptions(config)).setPreferNativeTransport(true))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    LocalCodec.registerAll(vertx.eventBus());
  }

  /**
   * Options for every Vert.x instance of Cairn's (the server's, and the short-lived ones that load the configuration
   * or save a snapshot). Cairn serves no files from its classpath; resolving them would make a vertx-cache-*
   * directory in the temp directory, which a process killed before its exit hooks leaves behind.
   */
  public static VertxOptions vertxOptions() {
    return new VertxOptions().setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false));
  }

  /**
   * JVM metrics always; Vert.x's per-message event-bus and per-request HTTP metrics only with
   * {@code metrics.vertx-detail}: they look meters up by tags on every message and request, which cost about a
   * quarter of the event loops' time under load, and Cairn's own {@code cairn_rpc_*} meters already count requests.
   */
  private MicrometerMetricsOptions metricsOptions(CairnConfig config) {
    // A registry name of its own: Vert.x keeps its metrics backends in a JVM-wide map by name, and servers that
    // share a JVM (tests) must not report into one another's registry.
    MicrometerMetricsOptions options = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .setRegistryName(registryName);
    if (!config.metrics().vertxDetail()) {
      for (MetricsDomain domain : List.of(MetricsDomain.EVENT_BUS, MetricsDomain.HTTP_SERVER,
          MetricsDomain.HTTP_CLIENT, MetricsDomain.NET_SERVER, MetricsDomain.NET_CLIENT)) {
        options.addDisabledMetricsCategory(domain);
      }
    }
    return options;
  }

  /** Starts a server; on failure everything started is stopped again and the future fails with the cause. */
  public static Future<CairnServer> start(CairnConfig config) {
    CairnServer server = new CairnServer(config);
    // Completed outside Vert.x contexts: after a failed start the event loops are gone with the closed instance.
    CompletableFuture<CairnServer> started = new CompletableFuture<>();
    server.deployAll().onComplete(ar -> {
      if (ar.succeeded()) {
        started.complete(server);
      } else {
        server.stop().onComplete(ignored -> started.completeExceptionally(ar.cause()));
      }
    });
    return Future.fromCompletionStage(started);
  }

  private Future<Void> deployAll() {
    // Port 0 means "any free port"; a negative port makes every front instance share the same free port.
    int grpcPort = config.grpc().port() == 0 ? -1 : config.grpc().port();
    return deploy(() -> new ClusterVerticle(config.storage().dataDir(), "default", registry), 1)
        .compose(v -> deploy(() -> new StorageVerticle(config.storage(), config.stream().idleTimeout(),
            config.limits().maxLeases() > 0 ? config.limits().maxLeases() : LeaseClock.defaultMaxLeases(), registry),
            StorageVerticle.deploymentOptions()))
        .compose(v -> deploy(() -> new SnapshotVerticle(config.snapshot(), registry), 1))
        .compose(v -> deploy(() -> ops = new OpsHttpVerticle(config, registry), 1))
        .compose(v -> deploy(() -> {
          QueryFrontVerticle front = new QueryFrontVerticle(config, registry, grpcPort);
          fronts.add(front);
          return front;
        }, config.front().instances()))
        .onSuccess(v -> LOG.info("Cairn {} started: gRPC {}:{}, HTTP {}:{}, data {}, fronts {}, connections at most "
                + "{}, readers {}, sync {}, transport {}",
            Version.VERSION, config.grpc().host(), grpcPort(), config.http().host(), httpPort(),
            config.storage().dataDir(), config.front().instances(),
            ConnectionLimit.of(vertx, config.front()).max(), config.storage().readers(),
            config.storage().sync() ? "on" : "OFF (acknowledged writes may be lost on a crash)",
            vertx.isNativeTransportEnabled() ? "native epoll"
                : "Java NIO (" + vertx.unavailableNativeTransportCause() + ")"));
  }

  private Future<Void> deploy(Supplier<Verticle> verticle, int instances) {
    return deploy(verticle, new DeploymentOptions().setInstances(instances));
  }

  private Future<Void> deploy(Supplier<Verticle> verticle, DeploymentOptions options) {
    return vertx.deployVerticle(verticle::get, options)
        .onSuccess(deployments::add)
        .mapEmpty();
  }

  public int grpcPort() {
    return fronts.isEmpty() ? -1 : fronts.get(0).actualPort();
  }

  public int httpPort() {
    return ops == null ? -1 : ops.actualPort();
  }

  public CairnConfig config() {
    return config;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Undeploys in reverse order (fronts stop accepting and drain first, storage commits and closes last). */
  public synchronized Future<Void> stop() {
    if (stopping != null) {
      return stopping;
    }
    List<String> reversed = new ArrayList<>(deployments);
    Collections.reverse(reversed);
    Future<Void> chain = Future.succeededFuture();
    for (String id : reversed) {
      chain = chain.compose(v -> vertx.undeploy(id)
          .recover(e -> {
            LOG.warn("stopping deployment {} failed", id, e);
            return Future.succeededFuture();
          }));
    }
    // Vert.x is closed from a thread of its own: a close completion dispatched to one of the event loops it is
    // shutting down would never run.
    CompletableFuture<Void> closed = new CompletableFuture<>();
    chain.onComplete(ignored -> ForkJoinPool.commonPool().execute(() -> vertx.close().onComplete(ar -> {
      BackendRegistries.stop(registryName);
      registry.close();
      closed.complete(null);
    })));
    stopping = Future.fromCompletionStage(closed);
    return stopping;
  }
}
