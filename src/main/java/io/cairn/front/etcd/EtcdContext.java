package io.cairn.front.etcd;

import io.cairn.bus.ClusterInfo;
import io.cairn.front.OpenStreams;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;

import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * What the etcd services of one front share: storage, identity, limits, the unary guard, and the front's register of
 * streams to end when it stops.
 */
record EtcdContext(Vertx vertx, RpcGuard guard, StorageClient storage, EtcdConvert convert, ClusterInfo cluster,
                   Supplier<Future<ClusterInfo>> currentCluster, int maxRequestSize, OpenStreams openStreams) {

  /** Serves a unary etcd method through the guard, after etcd's leader requirement. */
  <Req, Resp> void unary(GrpcServer server, ServiceMethod<Req, Resp> method,
                         BiFunction<Req, RpcGuard.Call, Future<Resp>> handler) {
    server.callHandler(method, request -> guard.unary(request, m -> 0L, (message, call) -> {
      requireLeader(request);
      return handler.apply(message, call);
    }));
  }

  /**
   * etcd clients send {@code hasleader: true} to refuse a member cut off from its leader. A standalone server is
   * its own leader; in a cluster this asks the cluster verticle.
   */
  void requireLeader(GrpcServerRequest<?, ?> request) {
    if ("true".equals(request.headers().get("hasleader")) && !hasLeader()) {
      throw EtcdErrors.noLeader();
    }
  }

  boolean hasLeader() {
    return cluster.leaderId() != 0;
  }

  void checkSize(int size) {
    if (size > maxRequestSize) {
      throw EtcdErrors.requestTooLarge();
    }
  }
}
