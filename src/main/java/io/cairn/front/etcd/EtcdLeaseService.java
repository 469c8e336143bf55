package io.cairn.front.etcd;

import com.google.protobuf.Descriptors;
import com.google.protobuf.UnsafeByteOperations;
import io.cairn.bus.CairnException;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.LeaseAnswer;
import io.cairn.bus.LeaseQuery;
import io.cairn.front.OpenStreams;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.cairn.proto.etcd.LeaseGrantRequest;
import io.cairn.proto.etcd.LeaseGrantResponse;
import io.cairn.proto.etcd.LeaseGrpcService;
import io.cairn.proto.etcd.LeaseKeepAliveRequest;
import io.cairn.proto.etcd.LeaseKeepAliveResponse;
import io.cairn.proto.etcd.LeaseLeasesRequest;
import io.cairn.proto.etcd.LeaseLeasesResponse;
import io.cairn.proto.etcd.LeaseRevokeRequest;
import io.cairn.proto.etcd.LeaseRevokeResponse;
import io.cairn.proto.etcd.LeaseStatus;
import io.cairn.proto.etcd.LeaseTimeToLiveRequest;
import io.cairn.proto.etcd.LeaseTimeToLiveResponse;
import io.vertx.core.Future;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;

import java.util.List;

/** {@code etcdserverpb.Lease}: leases live in the store (they survive restarts); the writer keeps their clocks. */
final class EtcdLeaseService implements Service {

  /** etcd's bounds: a TTL is raised to the minimum its election timeout allows, and capped. */
  static final long MIN_TTL_SECONDS = 2;
  static final long MAX_TTL_SECONDS = 9_000_000_000L;

  private final EtcdContext ctx;
  private final StorageClient storage;
  private final EtcdConvert convert;

  EtcdLeaseService(EtcdContext ctx) {
    this.ctx = ctx;
    this.storage = ctx.storage();
    this.convert = ctx.convert();
  }

  @Override
  public ServiceName name() {
    return LeaseGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return LeaseGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    ctx.unary(server, LeaseGrpcService.LeaseGrant, this::grant);
    ctx.unary(server, LeaseGrpcService.LeaseRevoke, this::revoke);
    ctx.unary(server, LeaseGrpcService.LeaseTimeToLive, this::timeToLive);
    ctx.unary(server, LeaseGrpcService.LeaseLeases, this::leases);
    server.callHandler(LeaseGrpcService.LeaseKeepAlive, this::keepAlive);
  }

  private Future<LeaseGrantResponse> grant(LeaseGrantRequest request, RpcGuard.Call call) {
    if (request.getTTL() > MAX_TTL_SECONDS) {
      throw EtcdErrors.leaseTtlTooLarge();
    }
    long ttl = Math.max(request.getTTL(), MIN_TTL_SECONDS);
    return storage.write(List.of(new KvOp.LeaseGrant(request.getID(), ttl)), call.timeoutMs()).map(r -> {
      KvResult.LeaseGranted granted = (KvResult.LeaseGranted) r.results().get(0);
      return LeaseGrantResponse.newBuilder().setHeader(convert.header(r.revision()))
          .setID(granted.id()).setTTL(granted.ttlSeconds()).build();
    });
  }

  private Future<LeaseRevokeResponse> revoke(LeaseRevokeRequest request, RpcGuard.Call call) {
    return storage.write(List.of(new KvOp.LeaseRevoke(request.getID())), call.timeoutMs())
        .map(r -> LeaseRevokeResponse.newBuilder().setHeader(convert.header(r.revision())).build());
  }

  private Future<LeaseTimeToLiveResponse> timeToLive(LeaseTimeToLiveRequest request, RpcGuard.Call call) {
    return storage.lease(new LeaseQuery.TimeToLive(request.getID(), request.getKeys()), call.timeoutMs())
        .map(answer -> {
          LeaseAnswer.Lease lease = answer.leases().get(0);
          LeaseTimeToLiveResponse.Builder out = LeaseTimeToLiveResponse.newBuilder()
              .setHeader(convert.header(answer.revision())).setID(lease.id()).setTTL(lease.ttlSeconds());
          if (lease.ttlSeconds() >= 0) {
            out.setGrantedTTL(lease.grantedTtlSeconds());
          }
          lease.keys().forEach(k -> out.addKeys(UnsafeByteOperations.unsafeWrap(k)));
          return out.build();
        });
  }

  private Future<LeaseLeasesResponse> leases(LeaseLeasesRequest request, RpcGuard.Call call) {
    return storage.lease(new LeaseQuery.ListAll(), call.timeoutMs()).map(answer -> {
      LeaseLeasesResponse.Builder out = LeaseLeasesResponse.newBuilder().setHeader(convert.header(answer.revision()));
      answer.leases().forEach(l -> out.addLeases(LeaseStatus.newBuilder().setID(l.id())));
      return out.build();
    });
  }

  private void keepAlive(GrpcServerRequest<LeaseKeepAliveRequest, LeaseKeepAliveResponse> request) {
    try {
      ctx.requireLeader(request);
    } catch (CairnException e) {
      RpcGuard.fail(request, e);
      return;
    }
    new KeepAliveStream(request).start();
  }

  /**
   * One keep-alive answered at a time, in order: the stream is paused while an answer is pending or the client
   * is not reading, so a flooding client cannot make the server queue work for it. When the front stops, the
   * keep-alive under way is answered and the stream ends with etcd's status for a stopping server, on which etcd's
   * clients go on keeping their leases alive elsewhere or after the restart.
   */
  private final class KeepAliveStream implements OpenStreams.Stream {
    private final GrpcServerRequest<LeaseKeepAliveRequest, LeaseKeepAliveResponse> request;
    private final GrpcServerResponse<LeaseKeepAliveRequest, LeaseKeepAliveResponse> response;
    private boolean answering;
    private boolean stopping;
    private boolean ended;

    KeepAliveStream(GrpcServerRequest<LeaseKeepAliveRequest, LeaseKeepAliveResponse> request) {
      this.request = request;
      this.response = request.response();
    }

    void start() {
      request.exceptionHandler(e -> ended());
      request.errorHandler(error -> ended()); // the client reset the stream
      response.exceptionHandler(e -> ended());
      request.endHandler(v -> {
        ended();
        response.end();
      });
      request.handler(this::keepAlive);
      ctx.openStreams().opened(request.connection(), this);
    }

    @Override
    public void frontStopping() {
      stopping = true;
      request.pause();
      if (!answering) {
        stop();
      }
    }

    private void stop() {
      if (!ended) {
        ended();
        RpcGuard.fail(request, EtcdErrors.serverStopped());
      }
    }

    private void ended() {
      ended = true;
      ctx.openStreams().closed(request.connection(), this);
    }

    private void keepAlive(LeaseKeepAliveRequest message) {
      request.pause();
      answering = true;
      storage.lease(new LeaseQuery.KeepAlive(message.getID()), RpcGuard.DEFAULT_TIMEOUT_MS).onComplete(ar -> {
        answering = false;
        if (ended) {
          return;
        }
        if (ar.failed()) {
          ended();
          RpcGuard.fail(request, CairnException.from(ar.cause()));
          return;
        }
        LeaseAnswer.Lease lease = ar.result().leases().get(0);
        try {
          response.write(LeaseKeepAliveResponse.newBuilder().setHeader(convert.header(ar.result().revision()))
              .setID(lease.id()).setTTL(lease.ttlSeconds()).build());
        } catch (RuntimeException e) {
          if (!RpcGuard.clientLeft(e)) {
            throw e;
          }
          ended();
          return;
        }
        if (stopping) {
          stop();
        } else if (response.writeQueueFull()) {
          response.drainHandler(v -> resume());
        } else {
          request.resume();
        }
      });
    }

    private void resume() {
      if (!stopping) {
        request.resume();
      }
    }
  }
}
