package io.cairn.bus;

/** Lease questions answered from the writer's lease clock; the answer is a {@link LeaseAnswer}. */
public sealed interface LeaseQuery {

  /** Restarts the lease's countdown. */
  record KeepAlive(long id) implements LeaseQuery {}

  record TimeToLive(long id, boolean withKeys) implements LeaseQuery {}

  record ListAll() implements LeaseQuery {}
}
