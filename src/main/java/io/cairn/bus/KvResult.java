package io.cairn.bus;

import java.util.List;

/** The result of one {@link KvOp}, in the same position as its operation. */
public sealed interface KvResult {

  /** {@code kv} is null when the key does not exist. */
  record Got(KeyValue kv) implements KvResult {}

  record Ranged(List<KeyValue> kvs, boolean more) implements KvResult {}

  /** {@code kv} carries the new revisions and no value. */
  record Put(KeyValue kv, boolean created) implements KvResult {}

  record Deleted(long count) implements KvResult {}
}
