package io.cairn.bus;

/**
 * A consistent, read-only view of the whole store for a snapshot: every record of every column family as of one
 * revision. Holding it open costs the store nothing but the versions it keeps alive; close it when done.
 */
public interface StoreExport extends AutoCloseable {

  long revision();

  long appliedIndex();

  long compactRevision();

  long keyCount();

  /** Receives one record: the family it belongs to (a small positive number), its key and its value. */
  interface RecordVisitor {
    void accept(int family, byte[] key, byte[] value) throws java.io.IOException;
  }

  /** Visits every record, family by family, each in key order. Blocking. */
  void forEach(RecordVisitor visitor) throws java.io.IOException;

  @Override
  void close();
}
