package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.AlarmReply;
import io.cairn.bus.AlarmRequest;
import io.cairn.bus.CursorPage;
import io.cairn.bus.CursorRequest;
import io.cairn.bus.Event;
import io.cairn.bus.InlineReads;
import io.cairn.bus.StoreExport;
import io.cairn.bus.KvOp;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvResult;
import io.cairn.bus.MvccErrors;
import io.cairn.bus.ReadBatchReply;
import io.cairn.bus.ReadReply;
import io.cairn.bus.WriteReply;
import io.cairn.config.CairnConfig;
import org.rocksdb.AbstractWriteBatch;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.ReadTier;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteOptions;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The MVCC key-value store on RocksDB. One writer thread at a time calls {@link #apply}; any number of threads
 * call {@link #read}. Every write request that changes something gets the next revision; a group of requests is
 * committed in one RocksDB write batch, synced to the WAL when {@code storage.sync} is on.
 */
public final class MvccStore implements AutoCloseable {

  static {
    RocksNative.load();
  }

  /** 1: kv, rev, meta. 2: adds hist (history by key) and lease; format 1 stores are upgraded on open. */
  static final int FORMAT_VERSION = 2;
  private static final List<String> FAMILIES = List.of("default", "kv", "rev", "meta", "hist", "lease");
  private static final byte[] META_REVISION = ascii("revision");
  private static final byte[] META_KEY_COUNT = ascii("key_count");
  private static final byte[] META_FORMAT = ascii("format");
  private static final byte[] META_COMPACT_REVISION = ascii("compact_revision");
  private static final byte[] META_APPLIED_INDEX = ascii("applied_index");
  private static final byte[] META_ALARMS = ascii("alarms");
  private static final int COMPACTION_BATCH = 10_000;
  private static final long MAX_TOTAL_WAL_BYTES = 32L << 20;
  private static final int RECYCLED_WAL_FILES = 4;

  private final Path directory;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final List<ColumnFamilyOptions> cfOptions;
  private final LRUCache blockCache;
  private final ColumnFamilyHandle defaultCf;
  private final ColumnFamilyHandle kvCf;
  private final ColumnFamilyHandle revCf;
  private final ColumnFamilyHandle metaCf;
  private final ColumnFamilyHandle histCf;
  private final ColumnFamilyHandle leaseCf;
  private final StoreView.Families families;
  private final WriteOptions writeOptions;
  private final boolean sync;
  private volatile long revision;
  private volatile long keyCount;
  private volatile long compactRevision;
  private volatile long appliedIndex;
  private volatile boolean closed;
  private final Map<Long, Cursor> cursors = new ConcurrentHashMap<>();
  private final AtomicLong cursorIds = new AtomicLong();
  private final LongAdder inlineAnswered = new LongAdder();
  private final LongAdder inlineDeclined = new LongAdder();
  /** Held shared by every read and apply, exclusively by close: native handles are never freed under a caller. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  /**
   * The batch every group commit is built in, cleared after each. RocksJava makes the batch's unindexed view
   * ({@link WriteBatchWithIndex#getWriteBatch}) through a JNI class lookup that cost about 8 µs on each
   * one-at-a-time put; reused, it is made once. Guarded by itself: only the writer applies, one group at a time.
   */
  private final GroupBatch groupBatch = new GroupBatch();
  /**
   * Most bytes of keys and values one read may gather ({@code storage.max-read-bytes}): a range is built whole on
   * the heap, then copied into its answer, and an unbounded one (etcdctl get --prefix over 700 MB of values) ran a
   * 512 MiB heap out and ended the server.
   */
  private final long maxReadBytes;

  private MvccStore(Path directory, RocksDB db, DBOptions dbOptions, List<ColumnFamilyOptions> cfOptions,
                    LRUCache blockCache, List<ColumnFamilyHandle> handles, boolean sync, long maxReadBytes)
      throws RocksDBException {
    this.directory = directory;
    this.maxReadBytes = maxReadBytes;
    this.db = db;
    this.dbOptions = dbOptions;
    this.cfOptions = cfOptions;
    this.blockCache = blockCache;
    this.defaultCf = handles.get(0);
    this.kvCf = handles.get(1);
    this.revCf = handles.get(2);
    this.metaCf = handles.get(3);
    this.histCf = handles.get(4);
    this.leaseCf = handles.get(5);
    this.families = new StoreView.Families(kvCf, revCf, histCf, leaseCf, metaCf);
    this.sync = sync;
    this.writeOptions = new WriteOptions().setSync(sync);
    byte[] format = db.get(metaCf, META_FORMAT);
    if (format == null) {
      // A new store is at revision 1 and its first write gets 2, as etcd's: etcd's clients may take revision 0
      // for "none" or "the latest" (a Range at revision 0, a watch from 0, Kubernetes' resourceVersion "0").
      try (WriteBatch created = new WriteBatch()) {
        created.put(metaCf, META_REVISION, Encoding.longBytes(1));
        created.put(metaCf, META_FORMAT, Encoding.longBytes(FORMAT_VERSION));
        db.write(writeOptions, created);
      }
    } else if (Encoding.longOf(format) == 1) {
      upgradeFromFormat1();
    } else if (Encoding.longOf(format) != FORMAT_VERSION) {
      throw new RocksDBException("data format " + Encoding.longOf(format) + " is newer than the format this build "
          + "reads (" + FORMAT_VERSION + "); run a newer Cairn");
    }
    writeMissingCounters();
    this.revision = Encoding.longOf(db.get(metaCf, META_REVISION));
    this.keyCount = Encoding.longOf(db.get(metaCf, META_KEY_COUNT));
    this.compactRevision = Encoding.longOf(db.get(metaCf, META_COMPACT_REVISION));
    this.appliedIndex = Encoding.longOf(db.get(metaCf, META_APPLIED_INDEX));
  }

  /**
   * Every read looks the revision counters up in its snapshot. Stored as explicit zeros they are always found:
   * RocksJava reports a missing key by throwing and catching a C++ exception inside the call, a few microseconds
   * that every read of a store never compacted would pay.
   */
  private void writeMissingCounters() throws RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      for (byte[] counter : List.of(META_REVISION, META_KEY_COUNT, META_COMPACT_REVISION, META_APPLIED_INDEX)) {
        if (db.get(metaCf, counter) == null) {
          batch.put(metaCf, counter, Encoding.longBytes(0));
        }
      }
      if (batch.count() > 0) {
        db.write(writeOptions, batch);
      }
    }
  }

  /** Format 1 had no history index: build it from the revision log. */
  private void upgradeFromFormat1() throws RocksDBException {
    try (RocksIterator it = db.newIterator(revCf); WriteBatch batch = new WriteBatch()) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] rk = it.key();
        byte[] event = it.value();
        batch.put(histCf, Encoding.historyKey(Encoding.eventKey(event), Encoding.revisionOf(rk), Encoding.subOf(rk)),
            new byte[] {Encoding.eventType(event)});
      }
      it.status();
      batch.put(metaCf, META_FORMAT, Encoding.longBytes(FORMAT_VERSION));
      db.write(writeOptions, batch);
    }
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
    for (String name : FAMILIES) {
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
        .setKeepLogFileNum(5)
        // The meta column family takes a few bytes every commit and would otherwise hold every write-ahead log
        // file alive until its memtable filled: bounding the logs' total flushes it, so old logs retire. The
        // bound is small because logs are recycled only once one has retired: until then, after every open,
        // each synced write pays the slower sync of a growing file.
        .setMaxTotalWalSize(MAX_TOTAL_WAL_BYTES)
        // Retired logs are reused rather than deleted: overwriting a file of a settled size, a synced write
        // needs no inode (size) update, which measured 0.23 -> 0.14 ms per fdatasync here.
        .setRecycleLogFileNum(RECYCLED_WAL_FILES);
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      java.nio.file.Files.createDirectories(dir);
      RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      return new MvccStore(dir, db, dbOptions, cfOptions, cache, handles, config.sync(),
          config.maxReadBytes() > 0 ? config.maxReadBytes() : Runtime.getRuntime().maxMemory() / 16);
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

  public long compactRevision() {
    return compactRevision;
  }

  public long appliedIndex() {
    return appliedIndex;
  }

  public boolean isOpen() {
    return !closed;
  }

  /**
   * The database's size: {@code totalBytes} on disk (SST files) plus in memtables, and {@code inUseBytes} of it live
   * (RocksDB's estimate of what its SST files hold once compacted, plus the memtables). Their difference is what a
   * defragmentation could give back.
   */
  public record Sizes(long totalBytes, long inUseBytes) {}

  /** Both sizes, summed over the column families. Blocking. */
  public Sizes approximateSizes() throws RocksDBException {
    enter();
    try {
      return sizesOpen();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private Sizes sizesOpen() throws RocksDBException {
    long total = 0;
    long live = 0;
    for (ColumnFamilyHandle cf : List.of(defaultCf, kvCf, revCf, metaCf, histCf, leaseCf)) {
      long sst = db.getLongProperty(cf, "rocksdb.live-sst-files-size");
      long memtables = db.getLongProperty(cf, "rocksdb.cur-size-all-mem-tables");
      total += sst + memtables;
      live += Math.min(sst, db.getLongProperty(cf, "rocksdb.estimate-live-data-size")) + memtables;
    }
    return new Sizes(total, live);
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

  /**
   * Evaluates independent read requests against one RocksDB snapshot; a request that fails gets its {@link
   * CairnException} as its outcome and the others go on. Blocking.
   */
  public List<Object> readBatch(List<List<KvOp>> requests) throws RocksDBException {
    enter();
    try {
      return viewOpen(view -> {
        List<Object> outcomes = new ArrayList<>(requests.size());
        // Each read is bounded alone; together, up to 256 of them held their answers until the last was read.
        long held = 0;
        for (List<KvOp> ops : requests) {
          if (held > maxReadBytes) {
            outcomes.add(ReadBatchReply.RUN_AGAIN);
            continue;
          }
          try {
            ReadReply reply = evaluateAll(view, ops);
            held += heldBytes(reply.results());
            outcomes.add(reply);
          } catch (CairnException e) {
            outcomes.add(e);
          }
        }
        return outcomes;
      });
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** The bytes of keys and values that results hold. */
  private static long heldBytes(List<KvResult> results) {
    long bytes = 0;
    for (KvResult result : results) {
      if (result instanceof KvResult.Got got && got.kv() != null) {
        bytes += got.kv().key().length + got.kv().value().length;
      } else if (result instanceof KvResult.Ranged ranged) {
        for (KeyValue kv : ranged.kvs()) {
          bytes += kv.key().length + kv.value().length;
        }
      } else if (result instanceof KvResult.Txn txn) {
        bytes += heldBytes(txn.results());
      }
    }
    return bytes;
  }

  private static ReadReply evaluateAll(StoreView view, List<KvOp> ops) throws RocksDBException {
    List<KvResult> results = new ArrayList<>(ops.size());
    for (KvOp op : ops) {
      results.add(evaluateRead(view, op));
    }
    return new ReadReply(view.revision(), results);
  }

  private interface ViewWork<T> {
    T apply(StoreView view) throws RocksDBException;
  }

  private ReadReply readOpen(List<KvOp> ops) throws RocksDBException {
    return viewOpen(view -> evaluateAll(view, ops));
  }

  /** Thrown by an inline read's view when the read steps over more keys than its budget. */
  private static final class BudgetSpent extends RuntimeException {
    private static final BudgetSpent INSTANCE = new BudgetSpent();

    private BudgetSpent() {
      super("inline read budget spent", null, false, false);
    }
  }

  /**
   * Reads for an event loop: answered from memtables and the block cache only (RocksDB's block-cache read tier
   * reports Incomplete instead of reading a file), stepping over at most {@code keyBudget} keys; everything else is
   * declined. Point reads and small ranges, at any revision, and read-only transactions made of them qualify;
   * filters, history, hashes and lease lookups always go to a reader. A budget of 0 declines everything.
   */
  public InlineReads inlineReads(int keyBudget) {
    return ops -> {
      ReadReply reply = keyBudget > 0 && ops.stream().allMatch(MvccStore::inlineable) ? readInline(ops, keyBudget)
          : null;
      (reply == null ? inlineDeclined : inlineAnswered).increment();
      return reply;
    };
  }

  private static boolean inlineable(KvOp op) {
    if (op instanceof KvOp.Txn t) {
      return !t.isWrite() && t.success().stream().allMatch(MvccStore::inlineable)
          && t.failure().stream().allMatch(MvccStore::inlineable);
    }
    return op instanceof KvOp.Get || op instanceof KvOp.Range;
  }

  private ReadReply readInline(List<KvOp> ops, int keyBudget) {
    // Never wait on the lifecycle lock from an event loop: if close holds it, a reader reports the closing.
    if (!lifecycle.readLock().tryLock()) {
      return null;
    }
    try {
      if (closed) {
        return null;
      }
      return viewOpen(true, keyBudget, view -> evaluateAll(view, ops));
    } catch (BudgetSpent e) {
      return null;
    } catch (RocksDBException e) {
      // Incomplete: the answer is on disk. Any other failure a reader meets again and reports in full.
      return null;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Reads answered inline so far, and declined (sent to a reader). */
  public long inlineReadsAnswered() {
    return inlineAnswered.sum();
  }

  public long inlineReadsDeclined() {
    return inlineDeclined.sum();
  }

  /**
   * The revision counters as read at one RocksDB sequence number. A snapshot at the same sequence number sees the
   * same data, so while nothing is written, reads skip reading the counters again (two lookups per read).
   */
  private record RevisionsAt(long sequence, long revision, long compactRevision) {}

  private volatile RevisionsAt lastRevisions = new RevisionsAt(-1, 0, 0);

  /** Runs {@code work} on a view of one RocksDB snapshot, released afterwards. */
  private <T> T viewOpen(ViewWork<T> work) throws RocksDBException {
    return viewOpen(false, 0, work);
  }

  private <T> T viewOpen(boolean memoryOnly, int keyBudget, ViewWork<T> work) throws RocksDBException {
    Snapshot snapshot = db.getSnapshot();
    try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot)) {
      if (memoryOnly) {
        ro.setReadTier(ReadTier.BLOCK_CACHE_TIER);
      }
      long sequence = snapshot.getSequenceNumber();
      RevisionsAt revisions = lastRevisions;
      if (revisions.sequence() != sequence) {
        revisions = new RevisionsAt(sequence, Encoding.longOf(db.get(metaCf, ro, META_REVISION)),
            Encoding.longOf(db.get(metaCf, ro, META_COMPACT_REVISION)));
        lastRevisions = revisions;
      }
      long readRevision = revisions.revision();
      long readCompactRevision = revisions.compactRevision();
      StoreView view = new StoreView() {
        public byte[] get(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
          return db.get(cf, ro, key);
        }

        public RocksIterator iterator(ColumnFamilyHandle cf) {
          return db.newIterator(cf, ro);
        }

        public long revision() {
          return readRevision;
        }

        public long compactRevision() {
          return readCompactRevision;
        }

        public StoreView.Families families() {
          return families;
        }

        public long maxReadBytes() {
          return maxReadBytes;
        }

        private int budget = keyBudget;

        public void visited() {
          if (keyBudget > 0 && --budget < 0) {
            throw BudgetSpent.INSTANCE;
          }
        }
      };
      return work.apply(view);
    } finally {
      db.releaseSnapshot(snapshot);
    }
  }

  /** Column families in a snapshot, numbered by their position here (from 1). */
  private List<ColumnFamilyHandle> exportedFamilies() {
    return List.of(kvCf, revCf, histCf, leaseCf, metaCf);
  }


  /** A consistent view of every exported family, for a snapshot; the caller closes it. */
  public StoreExport export() throws RocksDBException {
    enter();
    try {
      Snapshot snapshot = db.getSnapshot();
      ReadOptions ro = new ReadOptions().setSnapshot(snapshot);
      try {
        long exportRevision = Encoding.longOf(db.get(metaCf, ro, META_REVISION));
        long exportApplied = Encoding.longOf(db.get(metaCf, ro, META_APPLIED_INDEX));
        long exportCompact = Encoding.longOf(db.get(metaCf, ro, META_COMPACT_REVISION));
        long exportKeys = Encoding.longOf(db.get(metaCf, ro, META_KEY_COUNT));
        return new Export(snapshot, ro, exportRevision, exportApplied, exportCompact, exportKeys);
      } catch (RocksDBException | RuntimeException e) {
        ro.close();
        db.releaseSnapshot(snapshot);
        throw e;
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private final class Export implements StoreExport {
    private final Snapshot snapshot;
    private final ReadOptions readOptions;
    private final long exportRevision;
    private final long exportApplied;
    private final long exportCompact;
    private final long exportKeys;
    private boolean released;

    Export(Snapshot snapshot, ReadOptions readOptions, long revision, long applied, long compact, long keys) {
      this.snapshot = snapshot;
      this.readOptions = readOptions;
      this.exportRevision = revision;
      this.exportApplied = applied;
      this.exportCompact = compact;
      this.exportKeys = keys;
    }

    public long revision() {
      return exportRevision;
    }

    public long appliedIndex() {
      return exportApplied;
    }

    public long compactRevision() {
      return exportCompact;
    }

    public long keyCount() {
      return exportKeys;
    }

    public void forEach(RecordVisitor visitor) throws java.io.IOException {
      enter();
      try {
        List<ColumnFamilyHandle> families = exportedFamilies();
        for (int i = 0; i < families.size(); i++) {
          try (RocksIterator it = db.newIterator(families.get(i), readOptions)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
              visitor.accept(i + 1, it.key(), it.value());
            }
            it.status();
          }
        }
      } catch (RocksDBException e) {
        throw new java.io.IOException("reading the store for a snapshot failed: " + e.getMessage(), e);
      } finally {
        lifecycle.readLock().unlock();
      }
    }

    public synchronized void close() {
      lifecycle.readLock().lock();
      try {
        if (!released) {
          released = true;
          readOptions.close();
          if (!closed) {
            db.releaseSnapshot(snapshot);
          }
        }
      } finally {
        lifecycle.readLock().unlock();
      }
    }
  }

  /** Hands every record of a restore, in order, to the visitor it is given. */
  public interface RecordSource {
    void produce(StoreExport.RecordVisitor into) throws java.io.IOException;
  }

  /**
   * Creates the database of {@code dataDir} (its {@code db} directory must not exist) holding exactly the records
   * {@code source} gives, as exported by {@link #export}; synced and closed on return. Blocking.
   */
  public static void restore(Path dataDir, RecordSource source) throws java.io.IOException {
    if (java.nio.file.Files.exists(dataDir.resolve("db"))) {
      throw new java.io.IOException(dataDir.resolve("db") + " already exists");
    }
    CairnConfig.Storage config = new CairnConfig.Storage(dataDir, 1, true, 1, 1, 8 << 20, Long.MAX_VALUE, 0, 0);
    try (MvccStore store = open(config)) {
      List<ColumnFamilyHandle> families = store.exportedFamilies();
      WriteBatch[] batch = {new WriteBatch()};
      try {
        source.produce((family, key, value) -> {
          if (family < 1 || family > families.size()) {
            throw new java.io.IOException("the snapshot names an unknown column family " + family);
          }
          try {
            batch[0].put(families.get(family - 1), key, value);
            if (batch[0].getDataSize() >= 32 << 20) {
              store.db.write(store.writeOptions, batch[0]);
              batch[0].close();
              batch[0] = new WriteBatch();
            }
          } catch (RocksDBException e) {
            throw new java.io.IOException("writing the restored store failed: " + e.getMessage(), e);
          }
        });
        store.db.write(store.writeOptions, batch[0]);
        store.db.flushWal(true);
      } catch (RocksDBException e) {
        throw new java.io.IOException("writing the restored store failed: " + e.getMessage(), e);
      } finally {
        batch[0].close();
      }
    }
  }

  /** Opens a cursor on a snapshot of the store now and reads its first page. Blocking. */
  public CursorPage openCursor(CursorRequest.Open open) throws RocksDBException {
    enter();
    try {
      Snapshot snapshot = db.getSnapshot();
      long readRevision;
      try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot)) {
        readRevision = Encoding.longOf(db.get(metaCf, ro, META_REVISION));
      } catch (RocksDBException | RuntimeException e) {
        db.releaseSnapshot(snapshot);
        throw e;
      }
      Cursor cursor = new Cursor(cursorIds.incrementAndGet(), snapshot, readRevision, open);
      cursors.put(cursor.id, cursor);
      return pageOpen(cursor, open.maxItems(), open.maxBytes());
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** The cursor's next page; ABORTED when the cursor was closed for idleness. Blocking. */
  public CursorPage nextPage(CursorRequest.Next next) throws RocksDBException {
    enter();
    try {
      Cursor cursor = cursors.get(next.cursorId());
      if (cursor == null) {
        throw new CairnException(ErrorCode.ABORTED, "the stream's view of the store was released because the "
            + "stream stayed idle longer than stream.idle-timeout; start the stream again");
      }
      return pageOpen(cursor, next.maxItems(), next.maxBytes());
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private CursorPage pageOpen(Cursor cursor, int maxItems, int maxBytes) throws RocksDBException {
    CursorPage page;
    try (RocksIterator it = db.newIterator(kvCf, cursor.readOptions)) {
      page = cursor.page(it, Math.max(maxItems, 1), Math.max(maxBytes, 1));
    } catch (RocksDBException | RuntimeException e) {
      closeCursor(cursor.id);
      throw e;
    }
    if (page.done()) {
      closeCursor(cursor.id);
    }
    return page;
  }

  /** Releases a cursor's snapshot; unknown ids are ignored. */
  public void closeCursor(long id) {
    lifecycle.readLock().lock();
    try {
      if (!closed) {
        releaseCursor(id);
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private void releaseCursor(long id) {
    Cursor cursor = cursors.remove(id);
    if (cursor != null) {
      synchronized (cursor) {
        cursor.release();
        db.releaseSnapshot(cursor.snapshot);
      }
    }
  }

  /** Closes the cursors not used for {@code idleMillis}; returns how many. */
  public int closeIdleCursors(long idleMillis) {
    long now = System.nanoTime();
    int count = 0;
    for (Cursor cursor : cursors.values()) {
      if (now - cursor.lastUsedNanos > TimeUnit.MILLISECONDS.toNanos(idleMillis)) {
        closeCursor(cursor.id);
        count++;
      }
    }
    return count;
  }

  public int openCursors() {
    return cursors.size();
  }

  private static KvResult evaluateRead(StoreView view, KvOp op) throws RocksDBException {
    KvResult result = Reads.evaluate(view, op, branchOp -> evaluateRead(view, branchOp));
    if (result == null) {
      throw new IllegalArgumentException("write operation sent to the read path: " + op);
    }
    return result;
  }

  /**
   * What a group commit did: one outcome per request, and what the writer must tell others. {@code eventsComplete}
   * is false when a request's events were too large to keep ({@link Applier#eventsDropped}): then {@code events} is
   * empty and watchers must read the group's revisions from history. {@code writeNanos} is how long writing the
   * batch to RocksDB took (its write-ahead log append, the sync when configured, and the memtable inserts); 0 when
   * the group changed nothing and wrote nothing.
   */
  public record Applied(List<Object> outcomes, long revision, List<Event> events, boolean eventsComplete,
                        List<long[]> grantedLeases, List<Long> revokedLeases, long writeNanos) {}

  /**
   * Applies write requests in order, each as one revision, and commits them together in one write batch (synced
   * when configured). Each outcome is a {@link WriteReply}, or the {@link CairnException} that rejected that
   * request alone (its partial changes rolled back). The group ends early, before a request, once those applied
   * hold more than {@code storage.max-read-bytes} in their events (new and removed values, kept until the group is
   * answered and published): then there are fewer outcomes than requests, and the caller applies the rest in a
   * later group. Throws when the commit itself fails, in which case nothing was applied. Single writer only.
   * Blocking.
   */
  public Applied apply(List<List<KvOp>> requests) throws RocksDBException {
    enter();
    try {
      return applyOpen(requests);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private Applied applyOpen(List<List<KvOp>> requests) throws RocksDBException {
    synchronized (groupBatch) {
      try {
        WriteBatchWithIndex batch = groupBatch.open();
        return applyIn(batch, groupBatch.reads, groupBatch.unindexed, requests);
      } finally {
        groupBatch.reset();
      }
    }
  }

  private Applied applyIn(WriteBatchWithIndex batch, ReadOptions ro, WriteBatch unindexed, List<List<KvOp>> requests)
      throws RocksDBException {
    long[] rev = {revision};
    long keys = keyCount;
    long applied = appliedIndex;
    boolean dirty = false;
    long writeNanos = 0;
    List<Object> outcomes = new ArrayList<>(requests.size());
    List<Event> events = new ArrayList<>();
    List<long[]> granted = new ArrayList<>();
    List<Long> revoked = new ArrayList<>();
    // Indexing an entry costs more than writing it. History is only read back by historical reads, so unless the
    // group has one, its history entries go to the batch unindexed (a rollback to a save point indexes them).
    AbstractWriteBatch history = requests.stream().anyMatch(MvccStore::readsHistory) ? batch : unindexed;
    StoreView view = new StoreView() {
      public byte[] get(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
        return batch.getFromBatchAndDB(db, cf, ro, key);
      }

      public RocksIterator iterator(ColumnFamilyHandle cf) {
        return batch.newIteratorWithBase(cf, db.newIterator(cf, ro));
      }

      public long revision() {
        return rev[0];
      }

      public long compactRevision() {
        return compactRevision;
      }

      public StoreView.Families families() {
        return families;
      }

      public long maxReadBytes() {
        return maxReadBytes;
      }
    };
    long heldBytes = 0;
    boolean eventsComplete = true;
    for (List<KvOp> ops : requests) {
      if (heldBytes > maxReadBytes) {
        break;
      }
      boolean savePoint = needsSavePoint(ops);
      if (savePoint) {
        batch.setSavePoint();
      }
      Applier applier = new Applier(batch, history, view, rev[0] + 1);
      try {
        List<KvResult> results = applier.applyAll(ops);
        if (applier.dirty) {
          dirty = true;
          applied++;
        }
        if (savePoint) {
          batch.popSavePoint();
        }
        if (applier.changed) {
          rev[0]++;
          keys += applier.keyDelta;
        }
        events.addAll(applier.events);
        heldBytes += applier.eventBytes;
        eventsComplete &= !applier.eventsDropped;
        granted.addAll(applier.grantedLeases);
        revoked.addAll(applier.revokedLeases);
        outcomes.add(new WriteReply(rev[0], results));
      } catch (CairnException e) {
        if (savePoint) {
          batch.rollbackToSavePoint();
        }
        outcomes.add(e);
      }
    }
    if (dirty) {
      batch.put(metaCf, META_REVISION, Encoding.longBytes(rev[0]));
      batch.put(metaCf, META_KEY_COUNT, Encoding.longBytes(keys));
      batch.put(metaCf, META_APPLIED_INDEX, Encoding.longBytes(applied));
      long writeStart = System.nanoTime();
      db.write(writeOptions, batch);
      writeNanos = Math.max(1, System.nanoTime() - writeStart);
      revision = rev[0];
      keyCount = keys;
      appliedIndex = applied;
    }
    return new Applied(outcomes, revision, eventsComplete ? events : List.of(), eventsComplete, granted, revoked,
        writeNanos);
  }

  /**
   * The group commits' batch, its unindexed view and read options, made once and cleared after every group. A batch
   * that grew large (big values) is made afresh rather than cleared, which would keep its buffer at that size.
   */
  private static final class GroupBatch {
    private static final long KEPT_BYTES = 4L << 20;
    private WriteBatchWithIndex batch;
    private WriteBatch unindexed;
    private final ReadOptions reads = new ReadOptions();

    WriteBatchWithIndex open() {
      if (batch == null) {
        batch = new WriteBatchWithIndex(true);
        unindexed = batch.getWriteBatch();
      }
      return batch;
    }

    void reset() {
      if (batch == null) {
        return;
      }
      if (unindexed.getDataSize() > KEPT_BYTES) {
        close();
      } else {
        batch.clear();
      }
    }

    void close() {
      if (batch != null) {
        unindexed.close();
        batch.close();
        batch = null;
        unindexed = null;
      }
    }
  }

  /** Whether a request reads the {@code rev} or {@code hist} families: at a past revision, history, hash. */
  private static boolean readsHistory(List<KvOp> ops) {
    for (KvOp op : ops) {
      if (op instanceof KvOp.Range r && r.revision() != 0 || op instanceof KvOp.Filter f && f.revision() != 0
          || op instanceof KvOp.History || op instanceof KvOp.Hash
          || op instanceof KvOp.Txn t && (readsHistory(t.success()) || readsHistory(t.failure()))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a refused request could leave writes behind in the batch. A lone put, delete, lease grant or revoke
   * checks everything before it writes, so it needs no save point (two native calls less per request).
   */
  private static boolean needsSavePoint(List<KvOp> ops) {
    if (ops.size() != 1) {
      return true;
    }
    KvOp op = ops.get(0);
    return !(op instanceof KvOp.Put || op instanceof KvOp.Delete || op instanceof KvOp.LeaseGrant
        || op instanceof KvOp.LeaseRevoke);
  }

  /**
   * Forgets history below {@code target}: reads and watches before it fail from now on. For each key the newest
   * version at or below the target stays (so reads at the target still work), unless it is a deletion older than
   * the target. Single writer only, between groups. Blocking.
   */
  public long compact(long target) throws RocksDBException {
    enter();
    try {
      if (target <= compactRevision) {
        throw MvccErrors.compacted();
      }
      if (target > revision) {
        throw MvccErrors.futureRevision();
      }
      db.put(metaCf, writeOptions, META_COMPACT_REVISION, Encoding.longBytes(target));
      compactRevision = target;
      long removed = 0;
      WriteBatch batch = new WriteBatch();
      try (RocksIterator it = db.newIterator(histCf)) {
        byte[] keptKey = null;
        byte keptType = 0;
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] hk = it.key();
          if (keptKey != null && !Encoding.sameHistoryKey(keptKey, hk)) {
            removed += dropIfDeletedBefore(batch, keptKey, keptType, target);
            keptKey = null;
          }
          if (Encoding.historyRevision(hk) > target) {
            continue;
          }
          if (keptKey != null) {
            dropHistory(batch, keptKey);
            removed++;
          }
          keptKey = hk;
          keptType = it.value()[0];
          if (batch.count() >= COMPACTION_BATCH) {
            db.write(writeOptions, batch);
            batch.close();
            batch = new WriteBatch();
          }
        }
        it.status();
        if (keptKey != null) {
          removed += dropIfDeletedBefore(batch, keptKey, keptType, target);
        }
        db.write(writeOptions, batch);
      } finally {
        batch.close();
      }
      org.slf4j.LoggerFactory.getLogger(MvccStore.class)
          .info("compacted history below revision {}: {} old versions removed", target, removed);
      return revision;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private int dropIfDeletedBefore(WriteBatch batch, byte[] hk, byte type, long target) throws RocksDBException {
    if (type == Encoding.EVENT_DELETE && Encoding.historyRevision(hk) < target) {
      dropHistory(batch, hk);
      return 1;
    }
    return 0;
  }

  private void dropHistory(WriteBatch batch, byte[] hk) throws RocksDBException {
    batch.delete(histCf, hk);
    batch.delete(revCf, Encoding.revisionKey(Encoding.historyRevision(hk), Encoding.historySub(hk)));
  }

  /** Every lease with its granted TTL in seconds. Blocking. */
  public Map<Long, Long> leases() {
    enter();
    try (RocksIterator it = db.newIterator(leaseCf)) {
      Map<Long, Long> leases = new LinkedHashMap<>();
      for (it.seekToFirst(); it.isValid(); it.next()) {
        if (it.key().length == 8) {
          leases.put(Encoding.longOf(it.key()), Encoding.longOf(it.value()));
        }
      }
      return leases;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  public List<AlarmReply.Alarm> alarms() throws RocksDBException {
    enter();
    try {
      byte[] raw = db.get(metaCf, META_ALARMS);
      List<AlarmReply.Alarm> alarms = new ArrayList<>();
      if (raw != null) {
        ByteBuffer b = ByteBuffer.wrap(raw);
        while (b.remaining() >= 9) {
          alarms.add(new AlarmReply.Alarm(b.getLong(), AlarmRequest.AlarmType.values()[b.get()]));
        }
      }
      return alarms;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Persists the raised alarms so that they survive a restart, as etcd's do. Blocking. */
  public void saveAlarms(List<AlarmReply.Alarm> alarms) throws RocksDBException {
    enter();
    try {
      ByteBuffer b = ByteBuffer.allocate(9 * alarms.size());
      for (AlarmReply.Alarm a : alarms) {
        b.putLong(a.memberId()).put((byte) a.type().ordinal());
      }
      db.put(metaCf, writeOptions, META_ALARMS, b.array());
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Compacts every column family's files, dropping deleted and overwritten data from disk. Blocking. */
  public void defragment() throws RocksDBException {
    enter();
    try {
      for (ColumnFamilyHandle cf : List.of(kvCf, revCf, histCf, leaseCf, metaCf)) {
        db.compactRange(cf);
      }
    } finally {
      lifecycle.readLock().unlock();
    }
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
    for (Long id : List.copyOf(cursors.keySet())) {
      releaseCursor(id);
    }
    try {
      if (!sync) {
        db.flushWal(true);
      }
    } catch (RocksDBException e) {
      org.slf4j.LoggerFactory.getLogger(MvccStore.class).error("flushing the WAL on close failed", e);
    }
    for (ColumnFamilyHandle cf : List.of(kvCf, revCf, metaCf, histCf, leaseCf, defaultCf)) {
      cf.close();
    }
    try {
      db.closeE();
    } catch (RocksDBException e) {
      org.slf4j.LoggerFactory.getLogger(MvccStore.class).error("closing RocksDB failed", e);
    }
    synchronized (groupBatch) {
      groupBatch.close();
      groupBatch.reads.close();
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
