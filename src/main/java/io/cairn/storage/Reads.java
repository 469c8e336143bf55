package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.Event;
import io.cairn.bus.KeyRanges;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.MvccErrors;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/** Read operations evaluated against a {@link StoreView}; shared by the readers and the writer. */
final class Reads {

  /** Most history entries one {@link KvOp.History} answer scans before it returns what it found. */
  static final int HISTORY_SCAN_LIMIT = 50_000;

  private Reads() {}

  /** Receives one key and its stored value; returns false to stop the scan. */
  interface PairConsumer {
    boolean accept(byte[] key, byte[] stored);
  }

  /** Evaluates one operation of a transaction branch. */
  interface OpEvaluator {
    KvResult apply(KvOp op) throws RocksDBException;
  }

  /** The result of a read operation, or null when {@code op} writes. */
  static KvResult evaluate(StoreView view, KvOp op, OpEvaluator branchOp) throws RocksDBException {
    if (op instanceof KvOp.Get g) {
      byte[] stored = view.get(view.families().kv(), g.key());
      return new KvResult.Got(stored == null ? null : Encoding.keyValue(g.key(), stored, true));
    }
    if (op instanceof KvOp.Range r) {
      return range(view, r);
    }
    if (op instanceof KvOp.Filter f) {
      return filter(view, f);
    }
    if (op instanceof KvOp.Txn t && !t.isWrite()) {
      return txn(view, t, branchOp);
    }
    if (op instanceof KvOp.LeaseKeys l) {
      return leaseKeys(view, l.id());
    }
    if (op instanceof KvOp.History h) {
      return history(view, h);
    }
    if (op instanceof KvOp.Hash h) {
      return hash(view, h.revision());
    }
    return null;
  }

  static KvResult.Txn txn(StoreView view, KvOp.Txn t, OpEvaluator branchOp) throws RocksDBException {
    boolean succeeded = true;
    for (KvOp.Compare c : t.compares()) {
      if (!holds(view, c)) {
        succeeded = false;
        break;
      }
    }
    List<KvOp> branch = succeeded ? t.success() : t.failure();
    List<KvResult> results = new ArrayList<>(branch.size());
    long gathered = 0;
    for (KvOp op : branch) {
      KvResult result = branchOp.apply(op);
      // each range is bounded alone; so are a branch's ranges together
      gathered += readBytes(result);
      if (gathered > view.maxReadBytes()) {
        throw readTooLarge(view.maxReadBytes());
      }
      results.add(result);
    }
    return new KvResult.Txn(succeeded, results);
  }

  private static boolean holds(StoreView view, KvOp.Compare c) throws RocksDBException {
    boolean withValue = c.target() == KvOp.CompareTarget.VALUE;
    if (c.end() == null) {
      byte[] stored = view.get(view.families().kv(), c.key());
      return holds(c, stored == null ? null : Encoding.keyValue(c.key(), stored, withValue));
    }
    boolean any = false;
    try (RocksIterator it = view.iterator(view.families().kv())) {
      for (it.seek(c.key()); it.isValid() && KeyRanges.before(it.key(), c.end()); it.next()) {
        view.visited();
        any = true;
        if (!holds(c, Encoding.keyValue(it.key(), it.value(), withValue))) {
          return false;
        }
      }
      it.status();
    }
    return any || holds(c, null);
  }

  /** etcd's rule: a missing key compares as zeros, except that a value compare on it never holds. */
  private static boolean holds(KvOp.Compare c, KeyValue kv) {
    if (kv == null && c.target() == KvOp.CompareTarget.VALUE) {
      return false;
    }
    int cmp = switch (c.target()) {
      case VALUE -> Integer.signum(Arrays.compareUnsigned(kv.value(), c.value()));
      case VERSION -> Long.compare(kv == null ? 0 : kv.version(), c.number());
      case CREATE -> Long.compare(kv == null ? 0 : kv.createRevision(), c.number());
      case MOD -> Long.compare(kv == null ? 0 : kv.modRevision(), c.number());
      case LEASE -> Long.compare(kv == null ? 0 : kv.lease(), c.number());
    };
    return switch (c.result()) {
      case EQUAL -> cmp == 0;
      case NOT_EQUAL -> cmp != 0;
      case GREATER -> cmp > 0;
      case LESS -> cmp < 0;
    };
  }

  static KvResult.Ranged range(StoreView view, KvOp.Range r) throws RocksDBException {
    long at = checkRevision(view, r.revision());
    RangeCollector collector = new RangeCollector(r, view.maxReadBytes());
    scan(view, r.start(), r.end(), at, collector::accept);
    return collector.result();
  }

  static KvResult.Ranged filter(StoreView view, KvOp.Filter f) throws RocksDBException {
    long at = checkRevision(view, f.revision());
    ValueMatcher matcher = new ValueMatcher(f.where());
    List<KeyValue> kvs = new ArrayList<>();
    long[] toSkip = {f.offset()};
    boolean[] more = {false};
    long[] gathered = {0};
    scan(view, f.start(), f.end(), at, (key, stored) -> {
      if (!matcher.matches(key, Encoding.valueOf(stored))) {
        return true;
      }
      if (toSkip[0] > 0) {
        toSkip[0]--;
        return true;
      }
      if (f.limit() > 0 && kvs.size() >= f.limit()) {
        more[0] = true;
        return false;
      }
      KeyValue kv = Encoding.keyValue(key, stored, !f.keysOnly());
      gathered[0] = gather(gathered[0], kv, view.maxReadBytes());
      kvs.add(kv);
      return true;
    });
    return new KvResult.Ranged(kvs, more[0], -1);
  }

  /**
   * Adds a key-value's bytes to what a read has gathered, refusing the read past {@code maxBytes}; the first one
   * always fits, so that no value is too large to read.
   */
  static long gather(long gathered, KeyValue kv, long maxBytes) {
    long total = gathered + kv.key().length + kv.value().length;
    if (pastBound(gathered, total, maxBytes)) {
      throw readTooLarge(maxBytes);
    }
    return total;
  }

  /**
   * Whether bytes gathered from {@code before} to {@code after} went past {@code maxBytes} (storage.max-read-bytes)
   * for reads, deletes and updates alike; the first key gathered always fits.
   */
  static boolean pastBound(long before, long after, long maxBytes) {
    return before > 0 && after > maxBytes;
  }

  private static CairnException readTooLarge(long maxBytes) {
    return CairnException.exhausted("the read gathers more than " + maxBytes
        + " bytes of keys and values (storage.max-read-bytes); read the range in pages (etcd: a limit, then a "
        + "range starting after the last key; native: ExecuteStream)");
  }

  /** The bytes of keys and values a transaction operation's result holds from its ranges. */
  private static long readBytes(KvResult result) {
    long bytes = 0;
    if (result instanceof KvResult.Ranged ranged) {
      for (KeyValue kv : ranged.kvs()) {
        bytes += kv.key().length + kv.value().length;
      }
    } else if (result instanceof KvResult.Txn txn) {
      for (KvResult nested : txn.results()) {
        bytes += readBytes(nested);
      }
    }
    return bytes;
  }

  /** The revision to read at (0: latest), after refusing compacted and future ones as etcd does. */
  static long checkRevision(StoreView view, long revision) {
    if (revision > view.revision()) {
      throw MvccErrors.futureRevision();
    }
    if (revision > 0 && revision < view.compactRevision()) {
      throw MvccErrors.compacted();
    }
    return revision >= view.revision() ? 0 : revision;
  }

  /** Whether [start, end) holds the start key alone: end is start followed by one zero byte. */
  static boolean isSingleKey(byte[] start, byte[] end) {
    return end.length == start.length + 1 && end[start.length] == 0
        && Arrays.equals(start, 0, start.length, end, 0, start.length);
  }

  /** Visits the keys of [start, end) with their stored values as of {@code at} (0: latest), in key order. */
  static void scan(StoreView view, byte[] start, byte[] end, long at, PairConsumer consumer)
      throws RocksDBException {
    if (at == 0 && isSingleKey(start, end)) {
      // [k, k\0) holds k alone: a point lookup (bloom filters, no iterator over every level) finds it
      view.visited();
      byte[] stored = view.get(view.families().kv(), start);
      if (stored != null) {
        consumer.accept(start, stored);
      }
      return;
    }
    if (at == 0) {
      try (RocksIterator it = view.iterator(view.families().kv())) {
        for (it.seek(start); it.isValid() && KeyRanges.before(it.key(), end); it.next()) {
          view.visited();
          if (!consumer.accept(it.key(), it.value())) {
            break;
          }
        }
        it.status();
      }
      return;
    }
    try (RocksIterator it = view.iterator(view.families().hist())) {
      byte[] groupKey = null;
      byte[] best = null;
      byte bestType = 0;
      for (it.seek(Encoding.historyBound(start)); it.isValid(); it.next()) {
        view.visited();
        byte[] hk = it.key();
        if (groupKey == null || !Encoding.sameHistoryKey(groupKey, hk)) {
          if (groupKey != null && !emitVersion(view, groupKey, best, bestType, consumer)) {
            return;
          }
          if (!KeyRanges.before(Encoding.historyUserKey(hk), end)) {
            groupKey = null;
            break;
          }
          groupKey = hk;
          best = null;
        }
        if (Encoding.historyRevision(hk) <= at) {
          best = hk;
          bestType = it.value()[0];
        }
      }
      it.status();
      if (groupKey != null) {
        emitVersion(view, groupKey, best, bestType, consumer);
      }
    }
  }

  private static boolean emitVersion(StoreView view, byte[] groupKey, byte[] best, byte type, PairConsumer consumer)
      throws RocksDBException {
    if (best == null || type != Encoding.EVENT_PUT) {
      return true;
    }
    byte[] event = view.get(view.families().rev(),
        Encoding.revisionKey(Encoding.historyRevision(best), Encoding.historySub(best)));
    if (event == null) {
      return true;
    }
    int offset = Encoding.eventStoredOffset(event);
    return consumer.accept(Encoding.historyUserKey(groupKey), Arrays.copyOfRange(event, offset, event.length));
  }

  /** Collects a range's answer with etcd's rules for limit, count, revision filters and sorting. */
  private static final class RangeCollector {
    private final KvOp.Range r;
    private final long fetchLimit;
    private final boolean decodeValues;
    private final List<KeyValue> kvs = new ArrayList<>();
    private final long maxBytes;
    private long count;
    private long gathered;

    RangeCollector(KvOp.Range r, long maxBytes) {
      this.r = r;
      this.maxBytes = maxBytes;
      this.fetchLimit = r.limit() > 0 && !r.needsAll() ? r.limit() + 1 : Long.MAX_VALUE;
      this.decodeValues = !r.keysOnly() || r.sortTarget() == KvOp.SortTarget.VALUE;
    }

    boolean accept(byte[] key, byte[] stored) {
      count++;
      if (r.countOnly()) {
        return true;
      }
      if (kvs.size() >= fetchLimit) {
        return r.count();
      }
      KeyValue kv = Encoding.keyValue(key, stored, decodeValues);
      if (passes(kv)) {
        gathered = gather(gathered, kv, maxBytes);
        kvs.add(kv);
      }
      return true;
    }

    private boolean passes(KeyValue kv) {
      return (r.minModRevision() == 0 || kv.modRevision() >= r.minModRevision())
          && (r.maxModRevision() == 0 || kv.modRevision() <= r.maxModRevision())
          && (r.minCreateRevision() == 0 || kv.createRevision() >= r.minCreateRevision())
          && (r.maxCreateRevision() == 0 || kv.createRevision() <= r.maxCreateRevision());
    }

    KvResult.Ranged result() {
      long reportedCount = r.count() || r.countOnly() ? count : -1;
      if (r.countOnly()) {
        return new KvResult.Ranged(List.of(), false, reportedCount);
      }
      List<KeyValue> out = kvs;
      if (!r.keyOrdered()) {
        Comparator<KeyValue> order = switch (r.sortTarget()) {
          case KEY -> (a, b) -> Arrays.compareUnsigned(a.key(), b.key());
          case VERSION -> Comparator.comparingLong(KeyValue::version);
          case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
          case MOD -> Comparator.comparingLong(KeyValue::modRevision);
          case VALUE -> (a, b) -> Arrays.compareUnsigned(a.value(), b.value());
        };
        out.sort(r.effectiveOrder() == KvOp.SortOrder.DESCEND ? order.reversed() : order);
      }
      boolean more = false;
      if (r.limit() > 0 && out.size() > r.limit()) {
        out = new ArrayList<>(out.subList(0, (int) r.limit()));
        more = true;
      }
      if (r.keysOnly() && decodeValues) {
        out.replaceAll(kv -> new KeyValue(kv.key(), Encoding.EMPTY, kv.createRevision(), kv.modRevision(),
            kv.version(), kv.lease()));
      }
      return new KvResult.Ranged(out, more, reportedCount);
    }
  }

  static KvResult.LeaseKeys leaseKeys(StoreView view, long id) throws RocksDBException {
    byte[] record = view.get(view.families().lease(), Encoding.leaseKey(id));
    if (record == null) {
      return new KvResult.LeaseKeys(id, -1, List.of());
    }
    return new KvResult.LeaseKeys(id, Encoding.longOf(record), attachedKeys(view, id));
  }

  static List<byte[]> attachedKeys(StoreView view, long id) {
    byte[] prefix = Encoding.leaseKey(id);
    List<byte[]> keys = new ArrayList<>();
    try (RocksIterator it = view.iterator(view.families().lease())) {
      for (it.seek(prefix); it.isValid() && Encoding.startsWith(it.key(), prefix); it.next()) {
        byte[] k = it.key();
        if (k.length > 8) {
          keys.add(Arrays.copyOfRange(k, 8, k.length));
        }
      }
    }
    return keys;
  }

  static KvResult.Events history(StoreView view, KvOp.History h) throws RocksDBException {
    long from = Math.max(h.fromRevision(), 1);
    long readRevision = view.revision();
    if (from < view.compactRevision()) {
      return new KvResult.Events(List.of(), from, readRevision, view.compactRevision(), true);
    }
    List<Event> events = new ArrayList<>();
    long next = readRevision + 1;
    long lastRevision = -1;
    int scanned = 0;
    long bytes = 0;
    try (RocksIterator it = view.iterator(view.families().rev())) {
      for (it.seek(Encoding.revisionKey(from, 0)); it.isValid(); it.next()) {
        long rev = Encoding.revisionOf(it.key());
        if (rev > readRevision) {
          break;
        }
        if (rev != lastRevision
            && (events.size() >= h.maxEvents() || bytes >= h.maxBytes() || scanned >= HISTORY_SCAN_LIMIT)) {
          next = rev;
          break;
        }
        lastRevision = rev;
        scanned++;
        byte[] raw = it.value();
        byte[] key = Encoding.eventKey(raw);
        if (!KeyRanges.contains(key, h.start(), h.end())) {
          continue;
        }
        KeyValue prev = h.prevKv() ? previousVersion(view, key, rev, Encoding.subOf(it.key())) : null;
        bytes += raw.length + (prev == null ? 0 : prev.key().length + prev.value().length);
        if (Encoding.eventType(raw) == Encoding.EVENT_PUT) {
          events.add(new Event(Event.Type.PUT,
              Encoding.keyValue(key, raw, Encoding.eventStoredOffset(raw), raw.length, true), prev));
        } else {
          events.add(new Event(Event.Type.DELETE, new KeyValue(key, Encoding.EMPTY, 0, rev, 0, 0), prev));
        }
      }
      it.status();
    }
    return new KvResult.Events(events, next, readRevision, view.compactRevision(), false);
  }

  /** The pair as it was just before the change at (revision, sub), or null. */
  private static KeyValue previousVersion(StoreView view, byte[] key, long revision, int sub)
      throws RocksDBException {
    byte[] self = Encoding.historyKey(key, revision, sub);
    try (RocksIterator it = view.iterator(view.families().hist())) {
      it.seekForPrev(self);
      if (it.isValid() && Arrays.equals(it.key(), self)) {
        it.prev();
      }
      if (!it.isValid() || !Encoding.sameHistoryKey(it.key(), self) || it.value()[0] != Encoding.EVENT_PUT) {
        return null;
      }
      byte[] hk = it.key();
      byte[] event = view.get(view.families().rev(),
          Encoding.revisionKey(Encoding.historyRevision(hk), Encoding.historySub(hk)));
      return event == null ? null
          : Encoding.keyValue(key, event, Encoding.eventStoredOffset(event), event.length, true);
    }
  }

  static KvResult.Hashed hash(StoreView view, long revision) throws RocksDBException {
    CRC32C crc = new CRC32C();
    if (revision < 0) {
      for (var cf : List.of(view.families().kv(), view.families().rev())) {
        try (RocksIterator it = view.iterator(cf)) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            crc.update(it.key());
            crc.update(it.value());
          }
          it.status();
        }
      }
      return new KvResult.Hashed((int) crc.getValue(), view.revision(), view.compactRevision());
    }
    long at = checkRevision(view, revision);
    scan(view, Encoding.EMPTY, Encoding.EMPTY, at, (key, stored) -> {
      crc.update(key);
      crc.update(stored);
      return true;
    });
    return new KvResult.Hashed((int) crc.getValue(), at == 0 ? view.revision() : at, view.compactRevision());
  }
}
