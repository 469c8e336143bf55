package io.cairn.front.etcd;

import io.cairn.bus.Addresses;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.CommittedEvents;
import io.cairn.bus.WatchInterest;
import io.cairn.config.CairnConfig;
import io.cairn.front.OpenStreams;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.grpc.server.GrpcServer;

/**
 * The etcd v3 API of one front instance: KV, Watch, Lease, Maintenance and Cluster, over the bus. Its watch hub
 * subscribes to the writer's commit events on this front's event loop.
 */
public final class EtcdApi {

  private final EtcdContext ctx;
  private final WatchHub hub;

  private EtcdApi(EtcdContext ctx, WatchHub hub) {
    this.ctx = ctx;
    this.hub = hub;
  }

  /**
   * Subscribes to commit events first, then learns the revision, so that no commit falls between the two; and
   * gets storage's {@link WatchInterest}, through which the hub asks for those events while it has streams.
   */
  public static Future<EtcdApi> create(Vertx vertx, CairnConfig config, RpcGuard guard, StorageClient storage,
                                       ClusterInfo cluster, MeterRegistry registry, String frontName,
                                       OpenStreams openStreams) {
    EtcdContext ctx = new EtcdContext(vertx, guard, storage, new EtcdConvert(cluster, config.limits().maxTxnOps()), cluster,
        () -> vertx.eventBus().<ClusterInfo>request(Addresses.CLUSTER_INFO, null).map(Message::body),
        config.limits().maxRequestSize(), openStreams);
    long maxFrontBacklogBytes = config.watch().maxFrontBacklogBytes() > 0 ? config.watch().maxFrontBacklogBytes()
        : WatchHub.defaultMaxFrontBacklogBytes(config.front().instances());
    long maxWatcherBytes = config.watch().maxFrontWatcherBytes() > 0 ? config.watch().maxFrontWatcherBytes()
        : WatchHub.defaultMaxWatcherBytes(config.front().instances());
    WatchHub hub = new WatchHub(config.watch().maxBacklogBytes(), maxFrontBacklogBytes,
        config.watch().stallTimeout().toMillis(), config.watch().crowdedStallTimeout().toMillis(), maxWatcherBytes);
    return vertx.eventBus().<CommittedEvents>localConsumer(Addresses.STORAGE_EVENTS, m -> hub.publish(m.body()))
        .completion()
        .compose(v -> vertx.eventBus().<WatchInterest>request(Addresses.STORAGE_WATCH_INTEREST, null))
        .compose(interest -> {
          hub.listenThrough(interest.body());
          return storage.status();
        })
        .map(status -> {
          hub.advanceTo(status.revision());
          vertx.setPeriodic(config.watch().progressInterval().toMillis(), id -> hub.progressTick());
          Gauge.builder("cairn.etcd.watchers", hub, WatchHub::watchers).tag("front", frontName)
              .description("etcd watchers open on this front").register(registry);
          Gauge.builder("cairn.etcd.watch.backlog", hub, WatchHub::backlogBytes).tag("front", frontName)
              .baseUnit("bytes").description("answers this front's watch streams have written and not yet sent "
                  + "(each stream bounded by watch.max-backlog-bytes, all of them by watch.max-front-backlog-bytes)")
              .register(registry);
          Gauge.builder("cairn.etcd.watcher", hub, WatchHub::watcherBytes).tag("front", frontName)
              .baseUnit("bytes").description("bytes this front's watchers hold: their keys and range ends, and a "
                  + "little each (bounded by watch.max-front-watcher-bytes)").register(registry);
          Gauge.builder("cairn.etcd.watch.streams.waiting", hub, WatchHub::streamsWaiting).tag("front", frontName)
              .description("watch streams whose watchers stopped taking live events, waiting for "
                  + "watch.max-front-backlog-bytes to have room to catch them up from history").register(registry);
          return new EtcdApi(ctx, hub);
        });
  }

  public void bind(GrpcServer server) {
    server.addService(new EtcdKvService(ctx));
    server.addService(new EtcdLeaseService(ctx));
    server.addService(new EtcdMaintenanceService(ctx));
    server.addService(new EtcdClusterService(ctx));
    server.addService(new EtcdWatchService(ctx, hub));
  }
}
