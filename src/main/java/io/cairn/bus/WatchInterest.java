package io.cairn.bus;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Whether anyone listens to commit events ({@link Addresses#STORAGE_EVENTS}): the watch streams open on all fronts.
 * Storage publishes a commit's events only while at least one is open; each publication wakes every front's event
 * loop, which costs a few per cent of the CPU of a durable write when nobody watches.
 *
 * <p>A front counts a stream in before it reads the store's revision, and storage makes a commit's revision
 * visible before it looks at the count. So for every commit either the stream's revision already includes it, or
 * storage sees the stream and publishes its events: a front learns of every commit after {@link #streamOpened}'s
 * revision while the stream stays counted.
 */
public final class WatchInterest {

  private final AtomicInteger streams = new AtomicInteger();
  private final LongSupplier storeRevision;

  public WatchInterest(LongSupplier storeRevision) {
    this.storeRevision = storeRevision;
  }

  /** Counts a watch stream in; returns the store's revision, after which every commit's events are published. */
  public long streamOpened() {
    streams.incrementAndGet();
    return storeRevision.getAsLong();
  }

  public void streamClosed() {
    streams.decrementAndGet();
  }

  /** Read by storage after a commit's revision is visible, before it publishes that commit's events. */
  public boolean anyStreamOpen() {
    return streams.get() > 0;
  }
}
