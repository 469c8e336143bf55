package io.cairn.front.etcd;

import com.google.protobuf.Descriptors;
import io.cairn.bus.CairnException;
import io.cairn.front.RpcGuard;
import io.cairn.proto.etcd.WatchGrpcService;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

/** {@code etcdserverpb.Watch}: one {@link WatchStream} per call, all fed by this front's {@link WatchHub}. */
final class EtcdWatchService implements Service {

  private final EtcdContext ctx;
  private final WatchHub hub;

  EtcdWatchService(EtcdContext ctx, WatchHub hub) {
    this.ctx = ctx;
    this.hub = hub;
  }

  @Override
  public ServiceName name() {
    return WatchGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return WatchGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    server.callHandler(WatchGrpcService.Watch, request -> {
      try {
        ctx.requireLeader(request);
      } catch (CairnException e) {
        RpcGuard.fail(request, e);
        return;
      }
      new WatchStream(ctx.vertx(), hub, ctx.storage(), ctx.convert(), ctx.maxRequestSize(), request)
          .start(ctx.openStreams());
    });
  }
}
