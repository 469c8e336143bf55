package io.cairn.storage;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * One consistent view of the store: a RocksDB snapshot for readers, or the writer's batch over the database while
 * it applies a group. {@code revision} is the latest revision the view contains.
 */
interface StoreView {

  byte[] get(ColumnFamilyHandle cf, byte[] key) throws RocksDBException;

  RocksIterator iterator(ColumnFamilyHandle cf);

  long revision();

  long compactRevision();

  Families families();

  /** Called once for every key a scan steps over; a view with a key budget ends the read when it is spent. */
  default void visited() {}

  /** Most bytes of keys and values one read may gather ({@code storage.max-read-bytes}). */
  default long maxReadBytes() {
    return Long.MAX_VALUE;
  }

  /** The column families, named. */
  record Families(ColumnFamilyHandle kv, ColumnFamilyHandle rev, ColumnFamilyHandle hist, ColumnFamilyHandle lease,
                  ColumnFamilyHandle meta) {}
}
