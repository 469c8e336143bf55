package io.cairn.front.etcd;

import com.google.protobuf.Descriptors;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.cairn.proto.etcd.CompactionRequest;
import io.cairn.proto.etcd.CompactionResponse;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.DeleteRangeResponse;
import io.cairn.proto.etcd.KVGrpcService;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.PutResponse;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.RangeResponse;
import io.cairn.proto.etcd.TxnRequest;
import io.cairn.proto.etcd.TxnResponse;
import io.vertx.core.Future;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

import java.util.List;

/** {@code etcdserverpb.KV} over the same keyspace and revisions as the native API. */
final class EtcdKvService implements Service {

  private final EtcdContext ctx;
  private final StorageClient storage;
  private final EtcdConvert convert;

  EtcdKvService(EtcdContext ctx) {
    this.ctx = ctx;
    this.storage = ctx.storage();
    this.convert = ctx.convert();
  }

  @Override
  public ServiceName name() {
    return KVGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return KVGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    ctx.unary(server, KVGrpcService.Range, this::range);
    ctx.unary(server, KVGrpcService.Put, this::put);
    ctx.unary(server, KVGrpcService.DeleteRange, this::deleteRange);
    ctx.unary(server, KVGrpcService.Txn, this::txn);
    ctx.unary(server, KVGrpcService.Compact, this::compact);
  }

  private Future<RangeResponse> range(RangeRequest request, RpcGuard.Call call) {
    ctx.checkSize(request.getSerializedSize());
    call.changesNothing();
    return storage.read(List.of(convert.range(request)), call.timeoutMs())
        .map(r -> convert.rangeResponse(r.revision(), (KvResult.Ranged) r.results().get(0)));
  }

  private Future<PutResponse> put(PutRequest request, RpcGuard.Call call) {
    ctx.checkSize(request.getSerializedSize());
    return storage.write(List.of(convert.put(request)), call.timeoutMs())
        .map(r -> convert.putResponse(r.revision(), (KvResult.Put) r.results().get(0)));
  }

  private Future<DeleteRangeResponse> deleteRange(DeleteRangeRequest request, RpcGuard.Call call) {
    ctx.checkSize(request.getSerializedSize());
    return storage.write(List.of(convert.delete(request)), call.timeoutMs())
        .map(r -> convert.deleteResponse(r.revision(), (KvResult.Deleted) r.results().get(0)));
  }

  private Future<TxnResponse> txn(TxnRequest request, RpcGuard.Call call) {
    ctx.checkSize(request.getSerializedSize());
    KvOp.Txn txn = convert.txn(request);
    if (txn.isWrite()) {
      return storage.write(List.of(txn), call.timeoutMs())
          .map(r -> convert.txnResponse(r.revision(), (KvResult.Txn) r.results().get(0)));
    }
    call.changesNothing();
    return storage.read(List.of(txn), call.timeoutMs())
        .map(r -> convert.txnResponse(r.revision(), (KvResult.Txn) r.results().get(0)));
  }

  private Future<CompactionResponse> compact(CompactionRequest request, RpcGuard.Call call) {
    return storage.write(List.of(new KvOp.Compact(request.getRevision())), call.timeoutMs())
        .map(r -> CompactionResponse.newBuilder().setHeader(convert.header(r.revision())).build());
  }
}
