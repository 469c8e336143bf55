package io.cairn.front.etcd;

import io.cairn.bus.KeyRanges;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.RequestOp;
import io.cairn.proto.etcd.TxnRequest;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * etcd's duplicate-key rule for a transaction branch: a key may be put at most once, and never inside a range the
 * same branch deletes; nested transactions count, except that their success and failure branches exclude each
 * other. Deletes may overlap each other.
 */
final class TxnIntervals {

  private TxnIntervals() {}

  private record Interval(byte[] start, byte[] end) {
    /** end null: the start key alone; end empty: no upper bound. */
    boolean contains(byte[] key) {
      return KeyRanges.contains(key, start, end);
    }
  }

  private record Keys(Set<String> puts, List<Interval> deletes) {
    boolean deleted(String key) {
      byte[] bytes = bytes(key);
      return deletes.stream().anyMatch(i -> i.contains(bytes));
    }
  }

  static void check(List<RequestOp> ops) {
    collect(ops);
  }

  private static Keys collect(List<RequestOp> ops) {
    List<Interval> deletes = new ArrayList<>();
    for (RequestOp op : ops) {
      if (op.hasRequestDeleteRange()) {
        DeleteRangeRequest d = op.getRequestDeleteRange();
        deletes.add(new Interval(d.getKey().toByteArray(), EtcdConvert.end(d.getRangeEnd())));
      }
    }
    Keys keys = new Keys(new HashSet<>(), deletes);
    for (RequestOp op : ops) {
      if (!op.hasRequestTxn()) {
        continue;
      }
      TxnRequest nested = op.getRequestTxn();
      Keys then = collect(nested.getSuccessList());
      Keys otherwise = collect(nested.getFailureList());
      for (String k : then.puts()) {
        if (keys.puts().contains(k) || keys.deleted(k)) {
          throw EtcdErrors.duplicateKey();
        }
        keys.puts().add(k);
      }
      for (String k : otherwise.puts()) {
        if ((keys.puts().contains(k) && !then.puts().contains(k)) || keys.deleted(k)) {
          throw EtcdErrors.duplicateKey();
        }
        keys.puts().add(k);
      }
      deletes.addAll(then.deletes());
      deletes.addAll(otherwise.deletes());
    }
    for (RequestOp op : ops) {
      if (!op.hasRequestPut()) {
        continue;
      }
      String k = string(op.getRequestPut().getKey().toByteArray());
      if (keys.puts().contains(k) || keys.deleted(k)) {
        throw EtcdErrors.duplicateKey();
      }
      keys.puts().add(k);
    }
    return keys;
  }

  private static String string(byte[] key) {
    return new String(key, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private static byte[] bytes(String key) {
    return key.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
