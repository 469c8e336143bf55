package io.cairn.front;

import io.cairn.bus.Addresses;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.StorageStatus;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.Listeners;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigException;
import io.cairn.front.admin.AdminRpcService;
import io.cairn.front.etcd.EtcdApi;
import io.cairn.front.etcd.EtcdGateway;
import io.cairn.front.query.QueryRpcService;
import io.cairn.ops.Probes;
import io.cairn.proto.v1.QueryServiceGrpcService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.grpc.health.HealthService;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One gRPC front: every API Cairn serves, on the shared gRPC port (Vert.x balances connections across the
 * instances). It talks to storage only through the bus.
 */
public final class QueryFrontVerticle extends AbstractVerticle {

  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final int WINDOW = 1 << 20;
  private static final String INTERACTIVE_PATH =
      "/" + QueryServiceGrpcService.ExecuteInteractive.fullMethodName();
  private static final String CLIENT_CONNECTION_HANDLER = "cairn-client-connection";

  private final CairnConfig config;
  private final PrometheusMeterRegistry registry;
  private final int port;
  private final String name = "grpc-front-" + SEQUENCE.incrementAndGet();
  private final OpenStreams openStreams = new OpenStreams();
  private HttpServer server;
  /** etcd's JSON gateway on this front, made with its first request. */
  private EtcdGateway gateway;

  /** {@code port} is the port to bind: the configured one, or a negative value to share one free port. */
  public QueryFrontVerticle(CairnConfig config, PrometheusMeterRegistry registry, int port) {
    this.config = config;
    this.registry = registry;
    this.port = port;
  }

  @Override
  public void start(Promise<Void> startPromise) {
    StorageClient storage = new StorageClient(vertx);
    long maxBytes = config.front().maxInflightBytes() > 0 ? config.front().maxInflightBytes()
        : RpcGuard.defaultMaxBytes(config.front().instances());
    RpcGuard guard = new RpcGuard(vertx, registry, config.front().maxInflightPerConnection(),
        config.front().maxInflight(), maxBytes);
    Gauge.builder("cairn.rpc.inflight", guard, RpcGuard::inflight).tag("front", name)
        .description("requests this front has admitted and not yet answered (bounded by front.max-inflight)")
        .register(registry);
    Gauge.builder("cairn.rpc.inflight.bytes", guard, RpcGuard::inflightBytes).tag("front", name).baseUnit("bytes")
        .description("bytes of the request messages this front has admitted and not yet answered, and of the "
            + "answers it has not yet sent (bounded by front.max-inflight-bytes)")
        .register(registry);
    Gauge.builder("cairn.rpc.reads.waiting", guard, RpcGuard::readsWaiting).tag("front", name)
        .description("reads whose answer did not fit under front.max-inflight-bytes, waiting to run again")
        .register(registry);
    Gauge.builder("cairn.rpc.streams.waiting", guard, RpcGuard::streamsWaiting).tag("front", name)
        .description("client streams (ExecuteInteractive) not read until front.max-inflight-bytes has room for "
            + "their next message")
        .register(registry);
    vertx.eventBus().<ClusterInfo>request(Addresses.CLUSTER_INFO, null)
        .map(Message::body)
        .compose(cluster -> EtcdApi.create(vertx, config, guard, storage, cluster, registry, name, openStreams)
            .compose(etcd -> listen(cluster, etcd, guard, storage)))
        .onSuccess(s -> {
          Listeners.listening(vertx, name, config.grpc().host() + ":" + s.actualPort());
          Heartbeats.start(vertx, name);
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  /** Builds the gRPC server with every API on it and binds the shared port. */
  private Future<HttpServer> listen(ClusterInfo cluster, EtcdApi etcd, RpcGuard guard, StorageClient storage) {
    CairnConfig.Limits limits = config.limits();
    // The transport accepts somewhat more than the limit so that an oversize request gets Cairn's own
    // INVALID_ARGUMENT naming the limit rather than a bare transport error.
    long maxMessageSize = limits.maxRequestSize() + (1L << 20);
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions()
        .setMaxMessageSize(maxMessageSize)
        .setScheduleDeadlineAutomatically(true));
    HealthService health = HealthService.create(vertx);
    health.register("", () -> storage.status().map(StorageStatus::writable).otherwise(false));
    health.register(QueryServiceGrpcService.SERVICE_NAME,
        () -> storage.status().map(StorageStatus::writable).otherwise(false));
    Probes probes = new Probes(vertx, config, registry);
    grpc.addService(new QueryRpcService(vertx, guard, storage, config, cluster, probes, registry, openStreams));
    grpc.addService(new AdminRpcService(vertx, guard));
    etcd.bind(grpc);
    grpc.addService(health);
    grpc.addService(ReflectionService.v1());
    GrpcServerMetrics grpcMetrics = new GrpcServerMetrics(registry, grpc.services());
    ClientConnectionHandler.Traffic traffic = ClientConnectionHandler.Traffic.of(registry);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.grpc().host())
        .setPort(port)
        .setInitialSettings(new Http2Settings().setInitialWindowSize(WINDOW))
        .setHttp2ConnectionWindowSize(16 * WINDOW);
    // Like etcd's client port, this one also answers plain HTTP GET /health, /version and /metrics.
    server = vertx.createHttpServer(options).requestHandler(request -> {
      String type = request.getHeader("content-type");
      if (type == null || !type.startsWith("application/grpc")) {
        if (EtcdGateway.isGatewayPath(request.path())) {
          gateway().handle(request);
          return;
        }
        if (probes.serveEtcdEndpoint(request)) {
          return;
        }
      }
      GrpcServerMetrics.Method method = grpcMetrics.started(request);
      if (method == null) {
        grpc.handle(request);
      } else if (method.oneRequestMessage()) {
        grpc.handle(guard.budgeted(request, maxMessageSize, method));
      } else if (request.path().equals(INTERACTIVE_PATH)) {
        openStreams.dispatch(guard.streamBudget(request, maxMessageSize, method), grpc);
        guard.claimStreamBytes(); // unclaimed when vertx-grpc answered the call itself
      } else {
        HttpServerResponse response = request.response();
        response.endHandler(v -> method.ended(response));
        openStreams.dispatch(request, grpc);
      }
    });
    ConnectionLimit connections = ConnectionLimit.of(vertx, config.front());
    Gauge.builder("cairn.front.connections", connections, ConnectionLimit::open)
        .description("client connections open on the gRPC port (bounded by front.max-connections)")
        .register(registry);
    FunctionCounter.builder("cairn.front.connections.refused", connections, ConnectionLimit::refused)
        .description("connections closed as they came because front.max-connections were open").register(registry);
    server.connectionHandler(connection -> {
      if (connections.admit(connection) && connection instanceof ConnectionBase base) {
        base.channelHandlerContext().pipeline().addFirst(CLIENT_CONNECTION_HANDLER,
            new ClientConnectionHandler(traffic));
        AuthorityRepair.install(base.channelHandlerContext().pipeline());
      }
    });
    return server.listen().recover(e -> Future.failedFuture(
        ConfigException.ifPortInUse(e, "grpc.port", config.grpc().host(), config.grpc().port())));
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  private EtcdGateway gateway() {
    if (gateway == null) {
      String host = config.grpc().host();
      if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
        host = "127.0.0.1";
      }
      gateway = new EtcdGateway(vertx, SocketAddress.inetSocketAddress(server.actualPort(), host),
          config.limits().maxRequestSize(), Math.min(Integer.MAX_VALUE, Runtime.getRuntime().maxMemory() / 8));
    }
    return gateway;
  }

  /**
   * Stops accepting, then lets in-flight calls finish within {@code shutdown.timeout}; the streams that stay open
   * at their clients' will (watches, keep-alives, interactive sessions) answer what they have taken on and end.
   */
  @Override
  public void stop(Promise<Void> stopPromise) {
    Listeners.closed(vertx, name);
    Heartbeats.stop(vertx, name);
    if (server == null) {
      stopPromise.complete();
      return;
    }
    openStreams.frontStopping();
    server.shutdown(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .eventually(() -> gateway == null ? Future.succeededFuture() : gateway.close())
        .onComplete(stopPromise);
  }

}
