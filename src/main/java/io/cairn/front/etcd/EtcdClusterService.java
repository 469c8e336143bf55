package io.cairn.front.etcd;

import com.google.protobuf.Descriptors;
import io.cairn.bus.ClusterInfo;
import io.cairn.front.RpcGuard;
import io.cairn.proto.etcd.ClusterGrpcService;
import io.cairn.proto.etcd.Member;
import io.cairn.proto.etcd.MemberListRequest;
import io.cairn.proto.etcd.MemberListResponse;
import io.vertx.core.Future;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

/** {@code etcdserverpb.Cluster}: the member list; membership changes need the cluster mode. */
final class EtcdClusterService implements Service {

  private final EtcdContext ctx;

  EtcdClusterService(EtcdContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public ServiceName name() {
    return ClusterGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return ClusterGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    ctx.unary(server, ClusterGrpcService.MemberList, this::memberList);
    ctx.unary(server, ClusterGrpcService.MemberAdd, (request, call) -> {
      throw EtcdErrors.membershipNeedsCluster();
    });
    ctx.unary(server, ClusterGrpcService.MemberRemove, (request, call) -> {
      throw EtcdErrors.membershipNeedsCluster();
    });
    ctx.unary(server, ClusterGrpcService.MemberUpdate, (request, call) -> {
      throw EtcdErrors.membershipNeedsCluster();
    });
    ctx.unary(server, ClusterGrpcService.MemberPromote, (request, call) -> {
      throw EtcdErrors.membershipNeedsCluster();
    });
  }

  /** As etcd's, the answer's header names the member and its term but no revision. */
  private Future<MemberListResponse> memberList(MemberListRequest request, RpcGuard.Call call) {
    return ctx.currentCluster().get().map(cluster -> {
      MemberListResponse.Builder out = MemberListResponse.newBuilder().setHeader(ctx.convert().header(0));
      for (ClusterInfo.Member m : cluster.members()) {
        out.addMembers(Member.newBuilder().setID(m.id()).setName(m.name()).addAllPeerURLs(m.peerUrls())
            .addAllClientURLs(m.clientUrls()).setIsLearner(m.learner()));
      }
      return out.build();
    });
  }
}
