package io.cairn.front.etcd;

import com.google.protobuf.Descriptors;
import io.cairn.Version;
import com.google.protobuf.ByteString;
import io.cairn.bus.AlarmReply;
import io.cairn.bus.SnapshotInfo;
import io.cairn.bus.AlarmRequest;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.front.RpcGuard;
import io.cairn.front.SnapshotSender;
import io.cairn.front.StorageClient;
import io.cairn.proto.etcd.AlarmMember;
import io.cairn.proto.etcd.AlarmResponse;
import io.cairn.proto.etcd.AlarmType;
import io.cairn.proto.etcd.DefragmentRequest;
import io.cairn.proto.etcd.DefragmentResponse;
import io.cairn.proto.etcd.HashKVRequest;
import io.cairn.proto.etcd.HashKVResponse;
import io.cairn.proto.etcd.HashRequest;
import io.cairn.proto.etcd.HashResponse;
import io.cairn.proto.etcd.MaintenanceGrpcService;
import io.cairn.proto.etcd.MoveLeaderRequest;
import io.cairn.proto.etcd.MoveLeaderResponse;
import io.cairn.proto.etcd.SnapshotRequest;
import io.cairn.proto.etcd.SnapshotResponse;
import io.cairn.proto.etcd.StatusRequest;
import io.cairn.proto.etcd.StatusResponse;
import io.cairn.snapshot.SnapshotFile;
import io.vertx.core.Future;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

import java.security.MessageDigest;

import java.util.List;

/** {@code etcdserverpb.Maintenance}: status, alarms, hashes, defragmentation, snapshots. */
final class EtcdMaintenanceService implements Service {

  private final EtcdContext ctx;
  private final StorageClient storage;
  private final EtcdConvert convert;

  EtcdMaintenanceService(EtcdContext ctx) {
    this.ctx = ctx;
    this.storage = ctx.storage();
    this.convert = ctx.convert();
  }

  @Override
  public ServiceName name() {
    return MaintenanceGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return MaintenanceGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    ctx.unary(server, MaintenanceGrpcService.Status, this::status);
    ctx.unary(server, MaintenanceGrpcService.Alarm, this::alarm);
    ctx.unary(server, MaintenanceGrpcService.Defragment, this::defragment);
    ctx.unary(server, MaintenanceGrpcService.Hash, this::hash);
    ctx.unary(server, MaintenanceGrpcService.HashKV, this::hashKv);
    ctx.unary(server, MaintenanceGrpcService.MoveLeader, this::moveLeader);
    server.callHandler(MaintenanceGrpcService.Snapshot, this::snapshot);
  }

  /**
   * etcd's Snapshot stream: 32 KiB chunks with the bytes left after each, then a last message whose blob is the
   * SHA-256 of everything sent. The file is zero-padded to a multiple of 512 bytes first, because etcdctl 3.4
   * accepts a saved file only when its size is a multiple of 512 plus the 32 checksum bytes.
   */
  private void snapshot(GrpcServerRequest<SnapshotRequest, SnapshotResponse> request) {
    MessageDigest digest = SnapshotFile.sha256();
    ctx.guard().serverStream(request, message -> {
      ctx.requireLeader(request);
      return new SnapshotSender<>(ctx.vertx(), request, SNAPSHOT_CHUNK,
          new SnapshotSender.Framing<SnapshotResponse>() {
            public long padding(long fileSize) {
              return (512 - fileSize % 512) % 512;
            }

            public SnapshotResponse chunk(SnapshotInfo snapshot, byte[] data, long remaining, boolean first) {
              digest.update(data);
              return SnapshotResponse.newBuilder().setHeader(convert.header(snapshot.revision()))
                  .setRemainingBytes(remaining).setBlob(ByteString.copyFrom(data)).build();
            }

            public SnapshotResponse trailer() {
              return SnapshotResponse.newBuilder().setHeader(convert.header(0))
                  .setBlob(ByteString.copyFrom(digest.digest())).build();
            }
          }).send();
    });
  }

  private static final int SNAPSHOT_CHUNK = 32 * 1024;

  private Future<StatusResponse> status(StatusRequest request, RpcGuard.Call call) {
    return storage.status().map(s -> {
      StatusResponse.Builder out = StatusResponse.newBuilder()
          .setHeader(convert.header(s.revision()))
          .setVersion(Version.ETCD_COMPATIBLE)
          .setDbSize(s.dbSizeBytes())
          .setDbSizeInUse(s.dbSizeInUseBytes())
          .setLeader(ctx.cluster().leaderId())
          .setRaftIndex(s.appliedIndex())
          .setRaftAppliedIndex(s.appliedIndex())
          .setRaftTerm(ctx.cluster().raftTerm());
      for (AlarmReply.Alarm a : s.alarms()) {
        out.addErrors("memberID:" + a.memberId() + " alarm:" + a.type().name());
      }
      if (s.writeFailure() != null) {
        out.addErrors(s.writeFailure());
      }
      return out.build();
    });
  }

  private Future<AlarmResponse> alarm(io.cairn.proto.etcd.AlarmRequest request, RpcGuard.Call call) {
    AlarmRequest.Action action = switch (request.getAction()) {
      case ACTIVATE -> AlarmRequest.Action.ACTIVATE;
      case DEACTIVATE -> AlarmRequest.Action.DEACTIVATE;
      default -> AlarmRequest.Action.GET;
    };
    AlarmRequest.AlarmType type = switch (request.getAlarm()) {
      case NOSPACE -> AlarmRequest.AlarmType.NOSPACE;
      case CORRUPT -> AlarmRequest.AlarmType.CORRUPT;
      default -> AlarmRequest.AlarmType.NONE;
    };
    return storage.alarm(new AlarmRequest(action, request.getMemberID(), type), call.timeoutMs()).map(reply -> {
      AlarmResponse.Builder out = AlarmResponse.newBuilder(); // etcd's has no header
      for (AlarmReply.Alarm a : reply.alarms()) {
        out.addAlarms(AlarmMember.newBuilder().setMemberID(a.memberId())
            .setAlarm(a.type() == AlarmRequest.AlarmType.NOSPACE ? AlarmType.NOSPACE
                : a.type() == AlarmRequest.AlarmType.CORRUPT ? AlarmType.CORRUPT : AlarmType.NONE));
      }
      return out.build();
    });
  }

  private Future<DefragmentResponse> defragment(DefragmentRequest request, RpcGuard.Call call) {
    return storage.defragment(call.timeoutMs())
        .map(s -> DefragmentResponse.getDefaultInstance()); // etcd's has no header
  }

  private Future<HashResponse> hash(HashRequest request, RpcGuard.Call call) {
    return storage.read(List.of(new KvOp.Hash(-1)), call.timeoutMs()).map(r -> {
      KvResult.Hashed hashed = (KvResult.Hashed) r.results().get(0);
      return HashResponse.newBuilder().setHeader(convert.header(r.revision()))
          .setHash(hashed.hash()).build();
    });
  }

  private Future<HashKVResponse> hashKv(HashKVRequest request, RpcGuard.Call call) {
    return storage.read(List.of(new KvOp.Hash(Math.max(request.getRevision(), 0))), call.timeoutMs()).map(r -> {
      KvResult.Hashed hashed = (KvResult.Hashed) r.results().get(0);
      return HashKVResponse.newBuilder().setHeader(convert.header(r.revision()))
          .setHash(hashed.hash()).setCompactRevision(hashed.compactRevision()).build();
    });
  }

  private Future<MoveLeaderResponse> moveLeader(MoveLeaderRequest request, RpcGuard.Call call) {
    if (request.getTargetID() != ctx.cluster().memberId()) {
      throw EtcdErrors.badLeaderTransferee();
    }
    return storage.status().map(s -> MoveLeaderResponse.newBuilder().setHeader(convert.header(s.revision())).build());
  }
}
