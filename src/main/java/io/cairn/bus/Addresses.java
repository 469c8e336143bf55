package io.cairn.bus;

/** Every event-bus address in Cairn. Nothing else in the code base may spell an address. */
public final class Addresses {
  private Addresses() {}

  /** {@link WriteRequest} → {@link WriteReply}; consumed by the single StorageVerticle (group commit). */
  public static final String STORAGE_WRITE = "cairn.storage.write";
  /** {@link ReadRequest} → {@link ReadReply}; consumed by the StorageReaderVerticle instances. */
  public static final String STORAGE_READ = "cairn.storage.read";
  /** any body → {@link StorageStatus}; consumed by the StorageVerticle. */
  public static final String STORAGE_STATUS = "cairn.storage.status";
  /** any body → {@link ClusterInfo}; consumed by the ClusterVerticle. */
  public static final String CLUSTER_INFO = "cairn.cluster.info";
}
