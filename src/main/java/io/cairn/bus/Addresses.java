package io.cairn.bus;

/** Every event-bus address in Cairn. Nothing else in the code base may spell an address. */
public final class Addresses {
  private Addresses() {}

  /** {@link WriteRequest} → {@link WriteReply}; consumed by the single StorageVerticle (group commit). */
  public static final String STORAGE_WRITE = "cairn.storage.write";
  /** {@link WriteBatch} → {@link WriteBatchReply}; consumed by the StorageVerticle, every request in one queue. */
  public static final String STORAGE_WRITE_BATCH = "cairn.storage.write.batch";
  /** {@link ReadRequest} → {@link ReadReply}; consumed by the StorageReaderVerticle instances. */
  public static final String STORAGE_READ = "cairn.storage.read";
  /** {@link ReadBatch} → {@link ReadBatchReply}; consumed by the StorageReaderVerticle instances. */
  public static final String STORAGE_READ_BATCH = "cairn.storage.read.batch";
  /**
   * null → the store's {@link InlineReads}, sent by reference ({@link LocalCodec#INTERFACE_CODEC}); consumed by the
   * StorageVerticle. Each front asks once, at start.
   */
  public static final String STORAGE_INLINE_READS = "cairn.storage.inline-reads";
  /**
   * {@link CursorRequest} → {@link CursorPage}; consumed by the StorageReaderVerticle instances. The cursors
   * themselves live in the store, so any reader may serve any page.
   */
  public static final String STORAGE_CURSOR = "cairn.storage.cursor";
  /**
   * any body → {@link StoreExport}: a consistent view of the whole store for a snapshot; consumed by the
   * StorageVerticle. The receiver must close it.
   */
  public static final String STORAGE_EXPORT = "cairn.storage.export";
  /** {@link SnapshotRequest} → {@link SnapshotInfo} or {@link SnapshotList}; consumed by the SnapshotVerticle. */
  public static final String SNAPSHOT = "cairn.snapshot";
  /** any body → {@link StorageStatus}; consumed by the StorageVerticle. */
  public static final String STORAGE_STATUS = "cairn.storage.status";
  /** {@link LeaseQuery} → {@link LeaseAnswer}; consumed by the StorageVerticle, which keeps the lease clock. */
  public static final String STORAGE_LEASE = "cairn.storage.lease";
  /** {@link AlarmRequest} → {@link AlarmReply}; consumed by the StorageVerticle. */
  public static final String STORAGE_ALARM = "cairn.storage.alarm";
  /** {@link DefragmentRequest} → {@link StorageStatus}; consumed by the StorageVerticle. */
  public static final String STORAGE_DEFRAGMENT = "cairn.storage.defragment";
  /**
   * {@link CommittedEvents}, published (not sent) by the StorageVerticle after every durable commit that changed
   * something while a watch stream is open ({@link WatchInterest}); every front instance listens, to serve its
   * watchers.
   */
  public static final String STORAGE_EVENTS = "cairn.storage.events";
  /**
   * null → the store's {@link WatchInterest}, shared by reference; consumed by the StorageVerticle. Each front asks
   * once, at start.
   */
  public static final String STORAGE_WATCH_INTEREST = "cairn.storage.watch-interest";
  /** any body → {@link ClusterInfo}; consumed by the ClusterVerticle. */
  public static final String CLUSTER_INFO = "cairn.cluster.info";
}
