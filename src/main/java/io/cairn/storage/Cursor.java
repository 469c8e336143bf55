package io.cairn.storage;

import io.cairn.bus.CursorPage;
import io.cairn.bus.CursorRequest;
import io.cairn.bus.KeyRanges;
import io.cairn.bus.KeyValue;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

import java.util.ArrayList;
import java.util.List;

/**
 * A streaming read over one RocksDB snapshot. Each page seeks to where the last one stopped, so no iterator (and
 * no result) is held between pages: what a cursor keeps is its snapshot and its position.
 */
final class Cursor {

  /** Most keys one page step examines, so that a sparse filter still answers (with an empty page) promptly. */
  static final int SCAN_BUDGET_KEYS = 50_000;

  final long id;
  final Snapshot snapshot;
  final ReadOptions readOptions;
  final long revision;
  private final byte[] end;
  private final ValueMatcher matcher;
  private final boolean keysOnly;
  private byte[] position;
  private long toSkip;
  private long remaining;
  volatile long lastUsedNanos;

  Cursor(long id, Snapshot snapshot, long revision, CursorRequest.Open open) {
    this.id = id;
    this.snapshot = snapshot;
    this.readOptions = new ReadOptions().setSnapshot(snapshot);
    this.revision = revision;
    this.end = open.end();
    this.matcher = new ValueMatcher(open.where());
    this.keysOnly = open.keysOnly();
    this.position = open.start();
    this.toSkip = open.offset();
    this.remaining = open.limit() > 0 ? open.limit() : Long.MAX_VALUE;
    this.lastUsedNanos = System.nanoTime();
  }

  /** Reads the next page; {@code done} when the range (or the limit) is exhausted. */
  synchronized CursorPage page(RocksIterator it, int maxItems, int maxBytes) throws RocksDBException {
    lastUsedNanos = System.nanoTime();
    List<KeyValue> kvs = new ArrayList<>();
    long bytes = 0;
    int scanned = 0;
    boolean done = remaining == 0;
    if (!done) {
      it.seek(position);
      while (true) {
        if (!it.isValid() || !KeyRanges.before(it.key(), end)) {
          it.status();
          done = true;
          break;
        }
        if (kvs.size() >= maxItems || bytes >= maxBytes || scanned >= SCAN_BUDGET_KEYS) {
          position = it.key();
          break;
        }
        scanned++;
        byte[] key = it.key();
        byte[] stored = it.value();
        if (!matcher.matches(key, Encoding.valueOf(stored))) {
          it.next();
          continue;
        }
        if (toSkip > 0) {
          toSkip--;
          it.next();
          continue;
        }
        KeyValue kv = Encoding.keyValue(key, stored, !keysOnly);
        kvs.add(kv);
        bytes += kv.key().length + kv.value().length;
        if (--remaining == 0) {
          done = true;
          break;
        }
        it.next();
      }
    }
    return new CursorPage(id, revision, kvs, done, bytes);
  }

  void release() {
    readOptions.close();
  }
}
