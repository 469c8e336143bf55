package io.cairn.bus;

/**
 * One operation on the server keyspace. Keys are full keyspace keys ({@code collection/key}); range ends are
 * exclusive and already resolved by the front (never empty).
 */
public sealed interface KvOp {

  boolean isWrite();

  record Get(byte[] key) implements KvOp {
    public boolean isWrite() { return false; }
  }

  /** Keys in [start, end), at most {@code limit}; the reply says whether more were left out. */
  record Range(byte[] start, byte[] end, int limit, boolean keysOnly) implements KvOp {
    public boolean isWrite() { return false; }
  }

  record Put(byte[] key, byte[] value) implements KvOp {
    public boolean isWrite() { return true; }
  }

  /** Deletes {@code key}, or every key in [key, end) when {@code end} is not null. */
  record Delete(byte[] key, byte[] end) implements KvOp {
    public boolean isWrite() { return true; }
  }
}
