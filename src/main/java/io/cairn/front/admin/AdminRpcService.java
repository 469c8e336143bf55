package io.cairn.front.admin;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.SnapshotInfo;
import io.cairn.bus.SnapshotList;
import io.cairn.bus.SnapshotRequest;
import io.cairn.front.RpcGuard;
import io.cairn.front.SnapshotSender;
import io.cairn.proto.v1.AdminServiceGrpcService;
import io.cairn.proto.v1.DownloadSnapshotRequest;
import io.cairn.proto.v1.ListSnapshotsResponse;
import io.cairn.proto.v1.Snapshot;
import io.cairn.proto.v1.SnapshotChunk;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

/** {@code cairn.v1.AdminService}: snapshots on demand, listed, deleted, downloaded. */
public final class AdminRpcService implements Service {

  private static final int CHUNK = 64 * 1024;
  private static final long SNAPSHOT_TIMEOUT_MS = 3_600_000;

  private final Vertx vertx;
  private final RpcGuard guard;

  public AdminRpcService(Vertx vertx, RpcGuard guard) {
    this.vertx = vertx;
    this.guard = guard;
  }

  @Override
  public ServiceName name() {
    return AdminServiceGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return AdminServiceGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    server.callHandler(AdminServiceGrpcService.CreateSnapshot, request -> guard.unary(request,
        m -> SNAPSHOT_TIMEOUT_MS, (m, call) -> this.<SnapshotInfo>ask(new SnapshotRequest.Create(false),
            call.timeoutMs()).map(AdminRpcService::toProto)));
    server.callHandler(AdminServiceGrpcService.ListSnapshots, request -> guard.unary(request, m -> 0L,
        (m, call) -> this.<SnapshotList>ask(new SnapshotRequest.ListAll(), call.timeoutMs()).map(list ->
            ListSnapshotsResponse.newBuilder().addAllSnapshots(list.snapshots().stream()
                .map(AdminRpcService::toProto).toList()).build())));
    server.callHandler(AdminServiceGrpcService.DeleteSnapshot, request -> guard.unary(request, m -> 0L,
        (m, call) -> this.<SnapshotInfo>ask(new SnapshotRequest.Delete(m.getName()), call.timeoutMs())
            .map(AdminRpcService::toProto)));
    server.callHandler(AdminServiceGrpcService.DownloadSnapshot, this::download);
  }

  private <T> Future<T> ask(SnapshotRequest request, long timeoutMs) {
    return vertx.eventBus().<T>request(Addresses.SNAPSHOT, request, new DeliveryOptions().setSendTimeout(timeoutMs))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)));
  }

  private void download(GrpcServerRequest<DownloadSnapshotRequest, SnapshotChunk> request) {
    guard.serverStream(request, message -> new SnapshotSender<>(vertx, request, CHUNK,
        new SnapshotSender.Framing<SnapshotChunk>() {
          public long padding(long fileSize) {
            return 0;
          }

          public SnapshotChunk chunk(SnapshotInfo snapshot, byte[] data, long remaining, boolean first) {
            SnapshotChunk.Builder b = SnapshotChunk.newBuilder().setData(ByteString.copyFrom(data));
            if (first) {
              b.setTotalSize(snapshot.sizeBytes()).setRevision(snapshot.revision());
            }
            return b.build();
          }

          public SnapshotChunk trailer() {
            return null;
          }
        }).send());
  }

  static Snapshot toProto(SnapshotInfo info) {
    return Snapshot.newBuilder().setName(info.name()).setPath(info.path()).setRevision(info.revision())
        .setAppliedIndex(info.appliedIndex()).setKeyCount(info.keyCount()).setEntryCount(info.entryCount())
        .setSizeBytes(info.sizeBytes()).setCreatedMs(info.createdMillis()).setDurationMs(info.durationMillis())
        .setCompression(info.compression()).build();
  }
}
