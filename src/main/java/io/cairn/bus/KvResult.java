package io.cairn.bus;

import java.util.List;

/** The result of one {@link KvOp}, in the same position as its operation. */
public sealed interface KvResult {

  /** {@code kv} is null when the key does not exist. */
  record Got(KeyValue kv) implements KvResult {}

  /** {@code count} is -1 when the range did not ask for it. */
  record Ranged(List<KeyValue> kvs, boolean more, long count) implements KvResult {}

  /** {@code skipped}: values selected but left alone because they are not JSON objects. */
  record Updated(long updated, long skipped) implements KvResult {}

  /** {@code kv} carries the new revisions and no value; {@code prev} is null unless asked for and present. */
  record Put(KeyValue kv, boolean created, KeyValue prev) implements KvResult {}

  /** {@code prevKvs} is empty unless asked for. */
  record Deleted(long count, List<KeyValue> prevKvs) implements KvResult {}

  record Txn(boolean succeeded, List<KvResult> results) implements KvResult {}

  record LeaseGranted(long id, long ttlSeconds) implements KvResult {}

  record LeaseRevoked(long deletedKeys) implements KvResult {}

  /** {@code grantedTtl} is -1 when the lease does not exist. */
  record LeaseKeys(long id, long grantedTtl, List<byte[]> keys) implements KvResult {}

  record Compacted(long revision) implements KvResult {}

  /**
   * Events from the asked revision up to {@code nextRevision - 1}; {@code readRevision} is the latest revision of
   * the view they were read from. When the asked revision was compacted, {@code compactRevision} says where history
   * starts and {@code events} is empty.
   */
  record Events(List<Event> events, long nextRevision, long readRevision, long compactRevision, boolean compacted)
      implements KvResult {}

  record Hashed(int hash, long revision, long compactRevision) implements KvResult {}
}
