package io.cairn.bus;

import java.util.List;

/**
 * One operation on the server keyspace. Keys are full keyspace keys ({@code collection/key}, or the raw etcd key).
 * A range end is exclusive; an empty end means "no upper bound".
 */
public sealed interface KvOp {

  boolean isWrite();

  /** Whether the operation creates or replaces data (refused while the NOSPACE alarm is raised). */
  default boolean grows() {
    return false;
  }

  record Get(byte[] key) implements KvOp {
    public boolean isWrite() { return false; }
  }

  enum SortOrder { NONE, ASCEND, DESCEND }

  enum SortTarget { KEY, VERSION, CREATE, MOD, VALUE }

  /**
   * Keys in [start, end) as of {@code revision} (0: the latest), at most {@code limit} of them (0: no limit); the
   * reply says whether more matched. {@code count} asks for the number of keys in the range, ignoring the limit and
   * the revision filters; {@code countOnly} returns that number and no keys. The min/max revision bounds are 0 when
   * unset.
   */
  record Range(byte[] start, byte[] end, long limit, boolean keysOnly, boolean count, boolean countOnly,
               long revision, SortOrder sortOrder, SortTarget sortTarget, long minModRevision,
               long maxModRevision, long minCreateRevision, long maxCreateRevision) implements KvOp {
    public boolean isWrite() { return false; }

    /** A plain key-ordered range at the latest revision, without a count. */
    public static Range of(byte[] start, byte[] end, long limit, boolean keysOnly) {
      return new Range(start, end, limit, keysOnly, false, false, 0, SortOrder.NONE, SortTarget.KEY, 0, 0, 0, 0);
    }

    boolean filtersRevisions() {
      return minModRevision != 0 || maxModRevision != 0 || minCreateRevision != 0 || maxCreateRevision != 0;
    }

    /** etcd sorts ascending by default when a target other than the key is named. */
    public SortOrder effectiveOrder() {
      return sortTarget != SortTarget.KEY && sortOrder == SortOrder.NONE ? SortOrder.ASCEND : sortOrder;
    }

    public boolean keyOrdered() {
      return effectiveOrder() == SortOrder.NONE || (sortTarget == SortTarget.KEY && sortOrder == SortOrder.ASCEND);
    }

    public boolean needsAll() {
      return !keyOrdered() || filtersRevisions();
    }
  }

  /**
   * Sets {@code key}. {@code lease} 0 detaches the key from any lease. {@code ignoreValue} keeps the current value
   * and {@code ignoreLease} the current lease (the key must exist); {@code prevKv} returns the replaced pair.
   */
  record Put(byte[] key, byte[] value, long lease, boolean ignoreValue, boolean ignoreLease, boolean prevKv)
      implements KvOp {
    public boolean isWrite() { return true; }

    public boolean grows() { return true; }

    public static Put of(byte[] key, byte[] value) {
      return new Put(key, value, 0, false, false, false);
    }
  }

  /**
   * The values in [start, end) (end empty: no bound) satisfying {@code where} (null: all), as of {@code revision}
   * (0: the latest), in key order: {@code offset} matches skipped, then at most {@code limit}; the reply's {@code
   * more} says whether further values match.
   */
  record Filter(byte[] start, byte[] end, ValuePredicate where, long limit, long offset, long revision,
                boolean keysOnly) implements KvOp {
    public boolean isWrite() { return false; }
  }

  /**
   * Applies {@code changes} in order to every value in [start, end) satisfying {@code where} (null: all), in this
   * request's one revision; at most {@code maxKeys} values may be selected.
   */
  record Update(byte[] start, byte[] end, ValuePredicate where, List<ValueUpdate> changes, int maxKeys)
      implements KvOp {
    public boolean isWrite() { return true; }

    public boolean grows() { return true; }
  }

  /** Deletes {@code key}, or every key in [key, end) when {@code end} is not null. */
  record Delete(byte[] key, byte[] end, boolean prevKv) implements KvOp {
    public boolean isWrite() { return true; }

    public static Delete of(byte[] key, byte[] end) {
      return new Delete(key, end, false);
    }
  }

  enum CompareTarget { VERSION, CREATE, MOD, VALUE, LEASE }

  enum CompareResult { EQUAL, GREATER, LESS, NOT_EQUAL }

  /** etcd's compare: every key in [key, end) (or {@code key} alone when end is null) must satisfy it. */
  record Compare(CompareTarget target, CompareResult result, byte[] key, byte[] end, long number, byte[] value) {}

  /** If every compare holds, {@code success} runs, else {@code failure}; all in one revision. */
  record Txn(List<Compare> compares, List<KvOp> success, List<KvOp> failure) implements KvOp {
    public boolean isWrite() {
      return success.stream().anyMatch(KvOp::isWrite) || failure.stream().anyMatch(KvOp::isWrite);
    }

    public boolean grows() {
      return success.stream().anyMatch(KvOp::grows) || failure.stream().anyMatch(KvOp::grows);
    }
  }

  /** Creates lease {@code id} (chosen by the writer when 0) with a time to live in seconds. */
  record LeaseGrant(long id, long ttlSeconds) implements KvOp {
    public boolean isWrite() { return true; }

    public boolean grows() { return true; }
  }

  /** Deletes the lease and, in one revision, every key attached to it. */
  record LeaseRevoke(long id) implements KvOp {
    public boolean isWrite() { return true; }
  }

  /** The keys attached to a lease and its granted TTL. */
  record LeaseKeys(long id) implements KvOp {
    public boolean isWrite() { return false; }
  }

  /** Forgets history below {@code revision}; runs alone on the writer, between write groups. */
  record Compact(long revision) implements KvOp {
    public boolean isWrite() { return true; }
  }

  /**
   * Changes to keys in [start, end) (or {@code start} alone when end is null) from {@code fromRevision} on, in
   * revision order; an answer ends at a revision boundary once it holds {@code maxEvents} events or
   * {@code maxBytes} of keys and values.
   */
  record History(long fromRevision, byte[] start, byte[] end, int maxEvents, int maxBytes, boolean prevKv)
      implements KvOp {
    public boolean isWrite() { return false; }
  }

  /** A CRC-32C of the key-value state at {@code revision} (0: latest), or of the whole store when negative. */
  record Hash(long revision) implements KvOp {
    public boolean isWrite() { return false; }
  }
}
