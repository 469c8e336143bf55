package io.cairn.front.query;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What the ExecuteStream calls of one front instance hold together, on its event loop: the chunks they have written
 * and their clients not yet taken, bounded by {@code stream.max-front-bytes}. A stream asks before it reads its next
 * page from storage; while the chunks held, with a chunk for every page being read, would pass the bound, it waits,
 * first come first served, and is called back ({@link QueryStream#roomFreed}) when enough has been sent. One stream
 * always goes on when nothing else is held, so a chunk larger than the bound still gets through.
 */
final class StreamRoom {

  private final long maxBytes;
  private final long pageBytes;
  private final Set<QueryStream> waiting = new LinkedHashSet<>();
  private final StreamMetrics metrics;
  private long heldBytes;
  private int pagesReading;
  private boolean waking;

  /** {@code pageBytes}: the most one chunk can carry. */
  StreamRoom(long maxBytes, long pageBytes, StreamMetrics metrics) {
    this.maxBytes = maxBytes;
    this.pageBytes = pageBytes;
    this.metrics = metrics;
  }

  /** The default of {@code stream.max-front-bytes}: a sixteenth of the maximum heap, shared by the fronts. */
  static long defaultMaxBytes(int fronts) {
    return Math.max(1, Runtime.getRuntime().maxMemory() / 16 / fronts);
  }

  /**
   * Whether the stream may read its next page now (counted until {@link #pageRead}); if not, it waits behind the
   * streams already waiting. Asking again keeps its place.
   */
  boolean mayRead(QueryStream stream) {
    if (waiting.isEmpty() && hasRoom()) {
      pagesReading++;
      return true;
    }
    if (waiting.add(stream)) {
      metrics.streamsWaitingForRoom.incrementAndGet();
    }
    return false;
  }

  /** A page {@link #mayRead} let a stream read has arrived (or its read failed). */
  void pageRead() {
    pagesReading--;
    wakeWaiting();
  }

  void held(long bytes) {
    heldBytes += bytes;
    metrics.streamHeldBytes.addAndGet(bytes);
  }

  void sent(long bytes) {
    heldBytes -= bytes;
    metrics.streamHeldBytes.addAndGet(-bytes);
    wakeWaiting();
  }

  /** The stream ended: it waits no more. */
  void gone(QueryStream stream) {
    if (waiting.remove(stream)) {
      metrics.streamsWaitingForRoom.decrementAndGet();
    }
  }

  private boolean hasRoom() {
    return heldBytes + (pagesReading + 1L) * pageBytes <= maxBytes || heldBytes == 0 && pagesReading == 0;
  }

  private void wakeWaiting() {
    if (waking) {
      return;
    }
    waking = true;
    try {
      while (!waiting.isEmpty() && hasRoom()) {
        QueryStream first = waiting.iterator().next();
        waiting.remove(first);
        metrics.streamsWaitingForRoom.decrementAndGet();
        pagesReading++;
        first.roomFreed();
      }
    } finally {
      waking = false;
    }
  }
}
