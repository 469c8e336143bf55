package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.ReadReply;
import io.cairn.bus.WriteReply;
import io.cairn.config.CairnConfig;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteOptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The MVCC key-value store on RocksDB. One writer thread at a time calls {@link #apply}; any number of threads
 * call {@link #read}. Every write request that changes something gets the next revision; a group of requests is
 * committed in one RocksDB write batch, synced to the WAL when {@code storage.sync} is on.
 */
public final class MvccStore implements AutoCloseable {

  static {
    RocksDB.loadLibrary();
  }

  static final int FORMAT_VERSION = 1;
  private static final byte[] META_REVISION = ascii("revision");
  private static final byte[] META_KEY_COUNT = ascii("key_count");
  private static final byte[] META_FORMAT = ascii("format");

  private final Path directory;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final List<ColumnFamilyOptions> cfOptions;
  private final LRUCache blockCache;
  private final ColumnFamilyHandle defaultCf;
  private final ColumnFamilyHandle kvCf;
  private final ColumnFamilyHandle revCf;
  private final ColumnFamilyHandle metaCf;
  private final WriteOptions writeOptions;
  private final boolean sync;
  private volatile long revision;
  private volatile long keyCount;
  private volatile boolean closed;
  /** Held shared by every read and apply, exclusively by close: native handles are never freed under a caller. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();

  private MvccStore(Path directory, RocksDB db, DBOptions dbOptions, List<ColumnFamilyOptions> cfOptions,
                    LRUCache blockCache, List<ColumnFamilyHandle> handles, boolean sync) throws RocksDBException {
    this.directory = directory;
    this.db = db;
    this.dbOptions = dbOptions;
    this.cfOptions = cfOptions;
    this.blockCache = blockCache;
    this.defaultCf = handles.get(0);
    this.kvCf = handles.get(1);
    this.revCf = handles.get(2);
    this.metaCf = handles.get(3);
    this.sync = sync;
    this.writeOptions = new WriteOptions().setSync(sync);
    byte[] format = db.get(metaCf, META_FORMAT);
    if (format == null) {
      db.put(metaCf, writeOptions, META_FORMAT, Encoding.longBytes(FORMAT_VERSION));
    } else if (Encoding.longOf(format) != FORMAT_VERSION) {
      throw new RocksDBException("data format " + Encoding.longOf(format) + " is not the format this build reads ("
          + FORMAT_VERSION + ")");
    }
    this.revision = Encoding.longOf(db.get(metaCf, META_REVISION));
    this.keyCount = Encoding.longOf(db.get(metaCf, META_KEY_COUNT));
  }

  /** Opens (creating when absent) the database in {@code dataDir/db}. Blocking. */
  public static MvccStore open(CairnConfig.Storage config) {
    Path dir = config.dataDir().resolve("db");
    LRUCache cache = new LRUCache(Math.max(config.blockCacheSize(), 1));
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setFilterPolicy(new BloomFilter(10, false))
        .setCacheIndexAndFilterBlocks(true);
    List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String name : List.of("default", "kv", "rev", "meta")) {
      ColumnFamilyOptions o = new ColumnFamilyOptions()
          .setTableFormatConfig(table)
          .setCompressionType(CompressionType.LZ4_COMPRESSION);
      cfOptions.add(o);
      descriptors.add(new ColumnFamilyDescriptor(
          name.equals("default") ? RocksDB.DEFAULT_COLUMN_FAMILY : ascii(name), o));
    }
    DBOptions dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setMaxBackgroundJobs(2)
        .setKeepLogFileNum(5);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      java.nio.file.Files.createDirectories(dir);
      RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      return new MvccStore(dir, db, dbOptions, cfOptions, cache, handles, config.sync());
    } catch (RocksDBException | java.io.IOException e) {
      handles.forEach(ColumnFamilyHandle::close);
      dbOptions.close();
      cfOptions.forEach(ColumnFamilyOptions::close);
      cache.close();
      String message = String.valueOf(e.getMessage());
      if (message.contains("lock") || message.contains("LOCK")) {
        throw new StorageException("storage.data-dir", dir + " is in use by another Cairn process ("
            + message + ")", e);
      }
      throw new StorageException("storage.data-dir", "cannot open the database in " + dir + ": " + message, e);
    }
  }

  public Path directory() {
    return directory;
  }

  public long revision() {
    return revision;
  }

  public long keyCount() {
    return keyCount;
  }

  public boolean isOpen() {
    return !closed;
  }

  /** Bytes on disk (SST files) plus bytes in memtables, summed over the column families. */
  public long approximateSizeBytes() throws RocksDBException {
    enter();
    try {
      return sizeOpen();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private long sizeOpen() throws RocksDBException {
    long total = 0;
    for (ColumnFamilyHandle cf : List.of(defaultCf, kvCf, revCf, metaCf)) {
      total += db.getLongProperty(cf, "rocksdb.live-sst-files-size");
      total += db.getLongProperty(cf, "rocksdb.cur-size-all-mem-tables");
    }
    return total;
  }

  /** Evaluates read-only operations against one RocksDB snapshot. Blocking. */
  public ReadReply read(List<KvOp> ops) throws RocksDBException {
    enter();
    try {
      return readOpen(ops);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private ReadReply readOpen(List<KvOp> ops) throws RocksDBException {
    Snapshot snapshot = db.getSnapshot();
    try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot)) {
      long readRevision = Encoding.longOf(db.get(metaCf, ro, META_REVISION));
      View view = new View() {
        public byte[] get(byte[] key) throws RocksDBException {
          return db.get(kvCf, ro, key);
        }

        public RocksIterator iterator() {
          return db.newIterator(kvCf, ro);
        }
      };
      List<KvResult> results = new ArrayList<>(ops.size());
      for (KvOp op : ops) {
        KvResult result = readOp(view, op);
        if (result == null) {
          throw new IllegalArgumentException("write operation sent to the read path: " + op);
        }
        results.add(result);
      }
      return new ReadReply(readRevision, results);
    } finally {
      db.releaseSnapshot(snapshot);
    }
  }

  /**
   * Applies write requests in order, each as one revision, and commits them together in one write batch (synced
   * when configured). Returns one outcome per request: a {@link WriteReply}, or the {@link CairnException} that
   * rejected that request alone (its partial changes rolled back). Throws when the commit itself fails, in which
   * case nothing was applied. Single writer only. Blocking.
   */
  public List<Object> apply(List<List<KvOp>> requests) throws RocksDBException {
    enter();
    try {
      return applyOpen(requests);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private List<Object> applyOpen(List<List<KvOp>> requests) throws RocksDBException {
    long rev = revision;
    long keys = keyCount;
    List<Object> outcomes = new ArrayList<>(requests.size());
    try (WriteBatchWithIndex batch = new WriteBatchWithIndex(true); ReadOptions ro = new ReadOptions()) {
      View view = new View() {
        public byte[] get(byte[] key) throws RocksDBException {
          return batch.getFromBatchAndDB(db, kvCf, ro, key);
        }

        public RocksIterator iterator() {
          return batch.newIteratorWithBase(kvCf, db.newIterator(kvCf, ro));
        }
      };
      for (List<KvOp> ops : requests) {
        batch.setSavePoint();
        RequestApplier applier = new RequestApplier(batch, view, rev + 1);
        try {
          List<KvResult> results = applier.applyAll(ops);
          if (applier.changed) {
            rev++;
            keys += applier.keyDelta;
            batch.popSavePoint();
          } else {
            batch.rollbackToSavePoint();
          }
          outcomes.add(new WriteReply(rev, results));
        } catch (CairnException e) {
          batch.rollbackToSavePoint();
          outcomes.add(e);
        }
      }
      if (rev != revision) {
        batch.put(metaCf, META_REVISION, Encoding.longBytes(rev));
        batch.put(metaCf, META_KEY_COUNT, Encoding.longBytes(keys));
        db.write(writeOptions, batch);
        revision = rev;
        keyCount = keys;
      }
    }
    return outcomes;
  }

  private interface View {
    byte[] get(byte[] key) throws RocksDBException;

    RocksIterator iterator();
  }

  /** Applies one request's operations at one revision. */
  private final class RequestApplier {
    private final WriteBatchWithIndex batch;
    private final View view;
    private final long rev;
    private int sub;
    boolean changed;
    long keyDelta;

    RequestApplier(WriteBatchWithIndex batch, View view, long rev) {
      this.batch = batch;
      this.view = view;
      this.rev = rev;
    }

    List<KvResult> applyAll(List<KvOp> ops) throws RocksDBException {
      List<KvResult> results = new ArrayList<>(ops.size());
      for (KvOp op : ops) {
        KvResult read = readOp(view, op);
        if (read != null) {
          results.add(read);
        } else if (op instanceof KvOp.Put p) {
          results.add(put(p));
        } else {
          KvOp.Delete d = (KvOp.Delete) op;
          results.add(d.end() == null ? deleteOne(d.key()) : deleteRange(d.key(), d.end()));
        }
      }
      return results;
    }

    private KvResult put(KvOp.Put p) throws RocksDBException {
      byte[] previous = view.get(p.key());
      long create = rev;
      long version = 1;
      if (previous != null) {
        KeyValue prev = Encoding.keyValue(p.key(), previous, false);
        create = prev.createRevision();
        // A key written twice in one revision changes once: its version counts revisions, not operations.
        version = prev.modRevision() == rev ? prev.version() : prev.version() + 1;
      } else {
        keyDelta++;
      }
      byte[] stored = Encoding.storedValue(create, rev, version, 0, p.value());
      batch.put(kvCf, p.key(), stored);
      batch.put(revCf, Encoding.revisionKey(rev, sub++), Encoding.putEvent(p.key(), stored));
      changed = true;
      return new KvResult.Put(new KeyValue(p.key(), new byte[0], create, rev, version, 0), previous == null);
    }

    private KvResult deleteOne(byte[] key) throws RocksDBException {
      if (view.get(key) == null) {
        return new KvResult.Deleted(0);
      }
      delete(key);
      return new KvResult.Deleted(1);
    }

    private KvResult deleteRange(byte[] start, byte[] end) throws RocksDBException {
      List<byte[]> doomed = new ArrayList<>();
      try (RocksIterator it = view.iterator()) {
        for (it.seek(start); it.isValid() && Encoding.before(it.key(), end); it.next()) {
          doomed.add(it.key());
        }
        it.status();
      }
      for (byte[] key : doomed) {
        delete(key);
      }
      return new KvResult.Deleted(doomed.size());
    }

    private void delete(byte[] key) throws RocksDBException {
      batch.delete(kvCf, key);
      batch.put(revCf, Encoding.revisionKey(rev, sub++), Encoding.deleteEvent(key));
      keyDelta--;
      changed = true;
    }
  }

  /** The result of a read operation, or null when {@code op} writes. */
  private static KvResult readOp(View view, KvOp op) throws RocksDBException {
    if (op instanceof KvOp.Get g) {
      return get(view, g);
    }
    if (op instanceof KvOp.Range r) {
      return range(view, r);
    }
    return null;
  }

  private static KvResult get(View view, KvOp.Get g) throws RocksDBException {
    byte[] stored = view.get(g.key());
    return new KvResult.Got(stored == null ? null : Encoding.keyValue(g.key(), stored, true));
  }

  private static KvResult range(View view, KvOp.Range r) throws RocksDBException {
    List<KeyValue> kvs = new ArrayList<>();
    boolean more = false;
    try (RocksIterator it = view.iterator()) {
      for (it.seek(r.start()); it.isValid() && Encoding.before(it.key(), r.end()); it.next()) {
        if (kvs.size() == r.limit()) {
          more = true;
          break;
        }
        kvs.add(Encoding.keyValue(it.key(), it.value(), !r.keysOnly()));
      }
      it.status();
    }
    return new KvResult.Ranged(kvs, more);
  }

  private void enter() {
    lifecycle.readLock().lock();
    if (closed) {
      lifecycle.readLock().unlock();
      throw new CairnException(ErrorCode.UNAVAILABLE, "storage is closed: the server is shutting down");
    }
  }

  /** Flushes the WAL (so that even with storage.sync off a clean stop loses nothing) and closes. Blocking. */
  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      closeNative();
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  private void closeNative() {
    try {
      if (!sync) {
        db.flushWal(true);
      }
    } catch (RocksDBException e) {
      org.slf4j.LoggerFactory.getLogger(MvccStore.class).error("flushing the WAL on close failed", e);
    }
    for (ColumnFamilyHandle cf : List.of(kvCf, revCf, metaCf, defaultCf)) {
      cf.close();
    }
    try {
      db.closeE();
    } catch (RocksDBException e) {
      org.slf4j.LoggerFactory.getLogger(MvccStore.class).error("closing RocksDB failed", e);
    }
    writeOptions.close();
    dbOptions.close();
    cfOptions.forEach(ColumnFamilyOptions::close);
    blockCache.close();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
