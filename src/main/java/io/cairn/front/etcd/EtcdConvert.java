package io.cairn.front.etcd;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.Event;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.proto.etcd.Compare;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.DeleteRangeResponse;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.PutResponse;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.RangeResponse;
import io.cairn.proto.etcd.RequestOp;
import io.cairn.proto.etcd.ResponseHeader;
import io.cairn.proto.etcd.ResponseOp;
import io.cairn.proto.etcd.TxnRequest;
import io.cairn.proto.etcd.TxnResponse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Translates etcd requests into bus operations and results back, validating as etcd does. etcd's range
 * conventions: an empty range_end means the key alone, range_end "\0" means every key from the key on.
 */
final class EtcdConvert {

  private final ClusterInfo cluster;
  private final int maxTxnOps;

  EtcdConvert(ClusterInfo cluster, int maxTxnOps) {
    this.cluster = cluster;
    this.maxTxnOps = maxTxnOps;
  }

  ResponseHeader header(long revision) {
    return ResponseHeader.newBuilder()
        .setClusterId(cluster.clusterId())
        .setMemberId(cluster.memberId())
        .setRevision(revision)
        .setRaftTerm(cluster.raftTerm())
        .build();
  }

  /** null for a single key, an empty array for "no upper bound", else the exclusive end. */
  static byte[] end(ByteString rangeEnd) {
    if (rangeEnd.isEmpty()) {
      return null;
    }
    if (rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0) {
      return new byte[0];
    }
    return rangeEnd.toByteArray();
  }

  static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  KvOp.Range range(RangeRequest r) {
    if (r.getKey().isEmpty()) {
      throw EtcdErrors.emptyKey();
    }
    byte[] start = r.getKey().toByteArray();
    byte[] end = end(r.getRangeEnd());
    return new KvOp.Range(start, end == null ? successor(start) : end, Math.max(r.getLimit(), 0), r.getKeysOnly(),
        true, r.getCountOnly(), r.getRevision(), sortOrder(r.getSortOrder()), sortTarget(r.getSortTarget()),
        r.getMinModRevision(), r.getMaxModRevision(), r.getMinCreateRevision(), r.getMaxCreateRevision());
  }

  private static KvOp.SortOrder sortOrder(RangeRequest.SortOrder order) {
    return switch (order) {
      case ASCEND -> KvOp.SortOrder.ASCEND;
      case DESCEND -> KvOp.SortOrder.DESCEND;
      default -> KvOp.SortOrder.NONE;
    };
  }

  private static KvOp.SortTarget sortTarget(RangeRequest.SortTarget target) {
    return switch (target) {
      case VERSION -> KvOp.SortTarget.VERSION;
      case CREATE -> KvOp.SortTarget.CREATE;
      case MOD -> KvOp.SortTarget.MOD;
      case VALUE -> KvOp.SortTarget.VALUE;
      default -> KvOp.SortTarget.KEY;
    };
  }

  KvOp.Put put(PutRequest p) {
    if (p.getKey().isEmpty()) {
      throw EtcdErrors.emptyKey();
    }
    if (p.getIgnoreValue() && !p.getValue().isEmpty()) {
      throw EtcdErrors.valueProvided();
    }
    if (p.getIgnoreLease() && p.getLease() != 0) {
      throw EtcdErrors.leaseProvided();
    }
    return new KvOp.Put(p.getKey().toByteArray(), p.getValue().toByteArray(), p.getLease(), p.getIgnoreValue(),
        p.getIgnoreLease(), p.getPrevKv());
  }

  KvOp.Delete delete(DeleteRangeRequest d) {
    if (d.getKey().isEmpty()) {
      throw EtcdErrors.emptyKey();
    }
    return new KvOp.Delete(d.getKey().toByteArray(), end(d.getRangeEnd()), d.getPrevKv());
  }

  KvOp.Txn txn(TxnRequest t) {
    if (t.getCompareCount() > maxTxnOps || t.getSuccessCount() > maxTxnOps || t.getFailureCount() > maxTxnOps) {
      throw EtcdErrors.tooManyOps();
    }
    List<KvOp.Compare> compares = new ArrayList<>(t.getCompareCount());
    for (Compare c : t.getCompareList()) {
      compares.add(compare(c));
    }
    List<KvOp> success = ops(t.getSuccessList());
    List<KvOp> failure = ops(t.getFailureList());
    TxnIntervals.check(t.getSuccessList());
    TxnIntervals.check(t.getFailureList());
    return new KvOp.Txn(compares, success, failure);
  }

  private List<KvOp> ops(List<RequestOp> requests) {
    List<KvOp> ops = new ArrayList<>(requests.size());
    for (RequestOp op : requests) {
      ops.add(switch (op.getRequestCase()) {
        case REQUEST_RANGE -> range(op.getRequestRange());
        case REQUEST_PUT -> put(op.getRequestPut());
        case REQUEST_DELETE_RANGE -> delete(op.getRequestDeleteRange());
        case REQUEST_TXN -> txn(op.getRequestTxn());
        default -> throw EtcdErrors.emptyKey();
      });
    }
    return ops;
  }

  private static KvOp.Compare compare(Compare c) {
    if (c.getKey().isEmpty()) {
      throw EtcdErrors.emptyKey();
    }
    KvOp.CompareTarget target = switch (c.getTarget()) {
      case CREATE -> KvOp.CompareTarget.CREATE;
      case MOD -> KvOp.CompareTarget.MOD;
      case VALUE -> KvOp.CompareTarget.VALUE;
      case LEASE -> KvOp.CompareTarget.LEASE;
      default -> KvOp.CompareTarget.VERSION;
    };
    KvOp.CompareResult result = switch (c.getResult()) {
      case GREATER -> KvOp.CompareResult.GREATER;
      case LESS -> KvOp.CompareResult.LESS;
      case NOT_EQUAL -> KvOp.CompareResult.NOT_EQUAL;
      default -> KvOp.CompareResult.EQUAL;
    };
    long number = switch (target) {
      case CREATE -> c.getCreateRevision();
      case MOD -> c.getModRevision();
      case LEASE -> c.getLease();
      case VERSION -> c.getVersion();
      case VALUE -> 0;
    };
    return new KvOp.Compare(target, result, c.getKey().toByteArray(), end(c.getRangeEnd()), number,
        c.getValue().toByteArray());
  }

  static io.cairn.proto.etcd.mvcc.KeyValue kv(KeyValue kv) {
    return io.cairn.proto.etcd.mvcc.KeyValue.newBuilder()
        .setKey(UnsafeByteOperations.unsafeWrap(kv.key()))
        .setValue(UnsafeByteOperations.unsafeWrap(kv.value()))
        .setCreateRevision(kv.createRevision())
        .setModRevision(kv.modRevision())
        .setVersion(kv.version())
        .setLease(kv.lease())
        .build();
  }

  static io.cairn.proto.etcd.mvcc.Event event(Event e, boolean withPrev) {
    io.cairn.proto.etcd.mvcc.Event.Builder out = io.cairn.proto.etcd.mvcc.Event.newBuilder()
        .setType(e.type() == Event.Type.PUT ? io.cairn.proto.etcd.mvcc.Event.EventType.PUT
            : io.cairn.proto.etcd.mvcc.Event.EventType.DELETE)
        .setKv(kv(e.kv()));
    if (withPrev && e.prev() != null) {
      out.setPrevKv(kv(e.prev()));
    }
    return out.build();
  }

  RangeResponse rangeResponse(long revision, KvResult.Ranged r) {
    return rangeResponse(header(revision), r);
  }

  private static RangeResponse rangeResponse(ResponseHeader header, KvResult.Ranged r) {
    RangeResponse.Builder out = RangeResponse.newBuilder().setHeader(header).setMore(r.more())
        .setCount(r.count());
    for (KeyValue kv : r.kvs()) {
      out.addKvs(kv(kv));
    }
    return out.build();
  }

  PutResponse putResponse(long revision, KvResult.Put r) {
    return putResponse(header(revision), r);
  }

  private static PutResponse putResponse(ResponseHeader header, KvResult.Put r) {
    PutResponse.Builder out = PutResponse.newBuilder().setHeader(header);
    if (r.prev() != null) {
      out.setPrevKv(kv(r.prev()));
    }
    return out.build();
  }

  DeleteRangeResponse deleteResponse(long revision, KvResult.Deleted r) {
    return deleteResponse(header(revision), r);
  }

  private static DeleteRangeResponse deleteResponse(ResponseHeader header, KvResult.Deleted r) {
    DeleteRangeResponse.Builder out = DeleteRangeResponse.newBuilder().setHeader(header)
        .setDeleted(r.count());
    for (KeyValue kv : r.prevKvs()) {
      out.addPrevKvs(kv(kv));
    }
    return out.build();
  }

  /**
   * The operations' answers carry the revision each saw, as etcd's do: the one before the transaction until its
   * first change, the transaction's own from then on. A nested transaction's header is empty.
   */
  TxnResponse txnResponse(long revision, KvResult.Txn r) {
    long before = changes(r) ? revision - 1 : revision;
    TxnResponse.Builder out = txnAnswers(r, before, new boolean[1]);
    return out.setHeader(header(revision)).build();
  }

  private TxnResponse.Builder txnAnswers(KvResult.Txn r, long before, boolean[] changed) {
    TxnResponse.Builder out = TxnResponse.newBuilder().setSucceeded(r.succeeded());
    for (KvResult result : r.results()) {
      ResponseOp.Builder op = ResponseOp.newBuilder();
      if (result instanceof KvResult.Ranged ranged) {
        op.setResponseRange(rangeResponse(revisionOnly(seen(before, changed)), ranged));
      } else if (result instanceof KvResult.Put put) {
        changed[0] = true;
        op.setResponsePut(putResponse(revisionOnly(seen(before, changed)), put));
      } else if (result instanceof KvResult.Deleted deleted) {
        changed[0] |= deleted.count() > 0;
        op.setResponseDeleteRange(deleteResponse(revisionOnly(seen(before, changed)), deleted));
      } else if (result instanceof KvResult.Txn txn) {
        op.setResponseTxn(txnAnswers(txn, before, changed).setHeader(ResponseHeader.getDefaultInstance()));
      }
      out.addResponses(op);
    }
    return out;
  }

  private static long seen(long before, boolean[] changed) {
    return changed[0] ? before + 1 : before;
  }

  private static ResponseHeader revisionOnly(long revision) {
    return ResponseHeader.newBuilder().setRevision(revision).build();
  }

  private static boolean changes(KvResult.Txn r) {
    for (KvResult result : r.results()) {
      if (result instanceof KvResult.Put
          || result instanceof KvResult.Deleted deleted && deleted.count() > 0
          || result instanceof KvResult.Txn txn && changes(txn)) {
        return true;
      }
    }
    return false;
  }
}
