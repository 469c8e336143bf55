package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.Event;
import io.cairn.bus.KeyRanges;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.MvccErrors;
import org.rocksdb.AbstractWriteBatch;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies one write request's operations at one revision into the group's write batch. It records the history
 * ({@code rev} and {@code hist}), the lease attachments and the events watchers will receive.
 */
final class Applier {

  private final WriteBatchWithIndex batch;
  /** Where history entries go: the indexed batch, or its plain batch when nothing in the group reads history. */
  private final AbstractWriteBatch history;
  private final StoreView view;
  private final StoreView.Families cf;
  private final long rev;
  private int sub;
  /** The request changed keys: it takes the revision. */
  boolean changed;
  /** The request wrote something (a lease record, say), even if no key changed. */
  boolean dirty;
  long keyDelta;
  /** Bytes of the keys and values this request's deletes hold (see {@link #doomed}). */
  private long doomedBytes;
  /** Bytes of the keys and values this request's events hold, new and previous, until the group is published. */
  long eventBytes;
  /**
   * The request's events grew past {@code storage.max-read-bytes} and were dropped (only a lease revoke, which no
   * bound may refuse, gets here): watchers read its revision from history instead.
   */
  boolean eventsDropped;
  final List<Event> events = new ArrayList<>();
  final List<long[]> grantedLeases = new ArrayList<>();
  final List<Long> revokedLeases = new ArrayList<>();

  Applier(WriteBatchWithIndex batch, AbstractWriteBatch history, StoreView view, long rev) {
    this.batch = batch;
    this.history = history;
    this.view = view;
    this.cf = view.families();
    this.rev = rev;
  }

  List<KvResult> applyAll(List<KvOp> ops) throws RocksDBException {
    List<KvResult> results = new ArrayList<>(ops.size());
    for (KvOp op : ops) {
      results.add(apply(op));
    }
    return results;
  }

  private KvResult apply(KvOp op) throws RocksDBException {
    if (op instanceof KvOp.Txn t && t.isWrite()) {
      return Reads.txn(view, t, this::apply);
    }
    KvResult read = Reads.evaluate(view, op, this::apply);
    if (read != null) {
      return read;
    }
    if (op instanceof KvOp.Put p) {
      return put(p);
    }
    if (op instanceof KvOp.Delete d) {
      return d.end() == null ? deleteOne(d.key(), d.prevKv()) : deleteRange(d.key(), d.end(), d.prevKv());
    }
    if (op instanceof KvOp.Update u) {
      return update(u);
    }
    if (op instanceof KvOp.LeaseGrant g) {
      return grant(g);
    }
    if (op instanceof KvOp.LeaseRevoke r) {
      return revoke(r.id());
    }
    throw new IllegalArgumentException("not an operation a write request can apply: " + op);
  }

  private KvResult put(KvOp.Put p) throws RocksDBException {
    byte[] previous = view.get(cf.kv(), p.key());
    if ((p.ignoreValue() || p.ignoreLease()) && previous == null) {
      throw MvccErrors.keyNotFound();
    }
    KeyValue prev = previous == null ? null : Encoding.keyValue(p.key(), previous, true);
    byte[] value = p.ignoreValue() ? prev.value() : p.value();
    long lease = p.ignoreLease() ? prev.lease() : p.lease();
    if (lease != 0 && view.get(cf.lease(), Encoding.leaseKey(lease)) == null) {
      throw MvccErrors.leaseNotFound();
    }
    long create = rev;
    long version = 1;
    if (prev != null) {
      create = prev.createRevision();
      // A key written twice in one revision changes once: its version counts revisions, not operations.
      version = prev.modRevision() == rev ? prev.version() : prev.version() + 1;
      if (prev.lease() != lease && prev.lease() != 0) {
        batch.delete(cf.lease(), Encoding.leaseAttachment(prev.lease(), p.key()));
      }
    } else {
      keyDelta++;
    }
    if (lease != 0) {
      batch.put(cf.lease(), Encoding.leaseAttachment(lease, p.key()), Encoding.EMPTY);
    }
    byte[] stored = Encoding.storedValue(create, rev, version, lease, value);
    batch.put(cf.kv(), p.key(), stored);
    record(p.key(), Encoding.EVENT_PUT, Encoding.putEvent(p.key(), stored));
    events.add(new Event(Event.Type.PUT, new KeyValue(p.key(), value, create, rev, version, lease), prev));
    eventBytes += p.key().length + value.length + (prev == null ? 0 : prev.key().length + prev.value().length);
    return new KvResult.Put(new KeyValue(p.key(), Encoding.EMPTY, create, rev, version, lease), prev == null,
        p.prevKv() ? prev : null);
  }

  private KvResult update(KvOp.Update u) throws RocksDBException {
    ValueMatcher matcher = new ValueMatcher(u.where());
    List<byte[][]> changed = new ArrayList<>();
    long selected = 0;
    long skipped = 0;
    long changedBytes = 0;
    try (RocksIterator it = view.iterator(cf.kv())) {
      for (it.seek(u.start()); it.isValid() && KeyRanges.before(it.key(), u.end()); it.next()) {
        byte[] key = it.key();
        byte[] value = Encoding.valueOf(it.value());
        if (!matcher.matches(key, value)) {
          continue;
        }
        if (++selected > u.maxKeys()) {
          throw CairnException.exhausted("update: more than " + u.maxKeys() + " values match "
              + "(limits.max-update-keys); narrow it with start/end or a predicate, or update in several steps; "
              + "nothing was updated");
        }
        byte[] updated = ValueChanger.apply(key, value, u.changes());
        if (updated == null) {
          skipped++;
        } else {
          // each changed value is held here, then in its event: the same bound as a read's
          long before = changedBytes;
          changedBytes += key.length + updated.length;
          if (Reads.pastBound(before, changedBytes, view.maxReadBytes())) {
            throw CairnException.exhausted("update: the changed values hold more than " + view.maxReadBytes()
                + " bytes (storage.max-read-bytes); narrow it with start/end or a predicate, or update in several "
                + "steps; nothing was updated");
          }
          changed.add(new byte[][] {key, updated});
        }
      }
      it.status();
    }
    for (byte[][] pair : changed) {
      put(new KvOp.Put(pair[0], pair[1], 0, false, true, false));
    }
    return new KvResult.Updated(changed.size(), skipped);
  }

  private KvResult deleteOne(byte[] key, boolean withPrev) throws RocksDBException {
    byte[] stored = view.get(cf.kv(), key);
    if (stored == null) {
      return new KvResult.Deleted(0, List.of());
    }
    KeyValue prev = doomed(key, stored);
    delete(prev);
    return new KvResult.Deleted(1, withPrev ? List.of(prev) : List.of());
  }

  private KvResult deleteRange(byte[] start, byte[] end, boolean withPrev) throws RocksDBException {
    // gathered first: the batch must not change under its own iterator
    List<KeyValue> doomed = new ArrayList<>();
    try (RocksIterator it = view.iterator(cf.kv())) {
      for (it.seek(start); it.isValid() && KeyRanges.before(it.key(), end); it.next()) {
        doomed.add(doomed(it.key(), it.value()));
      }
      it.status();
    }
    for (KeyValue prev : doomed) {
      delete(prev);
    }
    return new KvResult.Deleted(doomed.size(), withPrev ? doomed : List.of());
  }

  /**
   * A key about to be deleted, with its value: the delete's event carries it to watchers that asked for previous
   * values. A request may hold at most {@code storage.max-read-bytes} of them (a delete of a 700 MB prefix ran a
   * 512 MiB heap out and ended the server), and is refused past it before it changes anything.
   */
  private KeyValue doomed(byte[] key, byte[] stored) {
    KeyValue prev = Encoding.keyValue(key, stored, true);
    long before = doomedBytes;
    doomedBytes += key.length + prev.value().length;
    if (Reads.pastBound(before, doomedBytes, view.maxReadBytes())) {
      throw CairnException.exhausted("the delete holds more than " + view.maxReadBytes()
          + " bytes of the keys and values it removes (storage.max-read-bytes): delete the range in smaller pieces");
    }
    return prev;
  }

  private void delete(KeyValue prev) throws RocksDBException {
    byte[] key = prev.key();
    batch.delete(cf.kv(), key);
    if (prev.lease() != 0) {
      batch.delete(cf.lease(), Encoding.leaseAttachment(prev.lease(), key));
    }
    record(key, Encoding.EVENT_DELETE, Encoding.deleteEvent(key));
    if (!eventsDropped) {
      events.add(new Event(Event.Type.DELETE, new KeyValue(key, Encoding.EMPTY, 0, rev, 0, 0), prev));
      eventBytes += 2L * key.length + prev.value().length;
    }
    keyDelta--;
  }

  private void record(byte[] key, byte type, byte[] event) throws RocksDBException {
    int s = sub++;
    history.put(cf.rev(), Encoding.revisionKey(rev, s), event);
    history.put(cf.hist(), Encoding.historyKey(key, rev, s), new byte[] {type});
    changed = true;
    dirty = true;
  }

  private KvResult grant(KvOp.LeaseGrant g) throws RocksDBException {
    if (view.get(cf.lease(), Encoding.leaseKey(g.id())) != null) {
      throw MvccErrors.leaseExists();
    }
    batch.put(cf.lease(), Encoding.leaseKey(g.id()), Encoding.longBytes(g.ttlSeconds()));
    grantedLeases.add(new long[] {g.id(), g.ttlSeconds()});
    dirty = true;
    return new KvResult.LeaseGranted(g.id(), g.ttlSeconds());
  }

  private KvResult revoke(long id) throws RocksDBException {
    if (view.get(cf.lease(), Encoding.leaseKey(id)) == null) {
      throw MvccErrors.leaseNotFound();
    }
    long deleted = 0;
    for (byte[] key : Reads.attachedKeys(view, id)) {
      byte[] stored = view.get(cf.kv(), key);
      if (stored != null && Encoding.leaseOf(stored) == id) {
        // Not refused past the bound like a delete: a revoke refused half-way would leave the lease's keys half
        // deleted. Past it the events are dropped instead, and the values no longer copied out for them.
        if (!eventsDropped && eventBytes + 2L * key.length + stored.length - Encoding.HEADER > view.maxReadBytes()) {
          eventsDropped = true;
          events.clear();
          eventBytes = 0;
        }
        delete(Encoding.keyValue(key, stored, !eventsDropped));
        deleted++;
      } else {
        batch.delete(cf.lease(), Encoding.leaseAttachment(id, key));
      }
    }
    batch.delete(cf.lease(), Encoding.leaseKey(id));
    revokedLeases.add(id);
    dirty = true;
    return new KvResult.LeaseRevoked(deleted);
  }

}
