package io.cairn.front;

import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * The deadlines of one event loop's requests in flight, to within one tick: a timing wheel whose buckets are
 * linked lists, so arming and cancelling one costs a few field writes on the event loop, with no other thread
 * and no scheduled task per request. Its one periodic timer runs only while a deadline is pending; an idle server
 * does no work for it. Use it from its event loop only.
 */
final class Deadlines {

  static final long TICK_MS = 10;
  private static final long TICK_NANOS = TICK_MS * 1_000_000L;
  /** A deadline further out than one turn of the buckets waits in its bucket for later turns. */
  private static final int DEFAULT_BUCKETS = 512;
  /** Longer limits are cut to this, which keeps the arithmetic in nanoseconds from overflowing. */
  private static final long MAX_LIMIT_MS = 30L * 24 * 3600 * 1000;

  private final Vertx vertx;
  private final Deadline[] buckets;
  private int pending;
  private long timerId = -1;
  /** Every deadline due at or before this tick has expired. */
  private long doneTick;

  Deadlines(Vertx vertx) {
    this(vertx, DEFAULT_BUCKETS);
  }

  /** {@code buckets} must be a power of two. */
  Deadlines(Vertx vertx, int buckets) {
    if (Integer.bitCount(buckets) != 1) {
      throw new IllegalArgumentException("buckets must be a power of two: " + buckets);
    }
    this.vertx = vertx;
    this.buckets = new Deadline[buckets];
  }

  /** One armed deadline; {@link #cancel} it when the request ends first. */
  final class Deadline {
    private final long tick;
    private final Runnable onExpiry;
    private Deadline previous;
    private Deadline next;
    private boolean armed = true;

    private Deadline(long tick, Runnable onExpiry) {
      this.tick = tick;
      this.onExpiry = onExpiry;
    }

    void cancel() {
      if (armed) {
        unlink(this);
      }
    }
  }

  /**
   * Runs {@code onExpiry} on this event loop once {@code limitMs} have passed, unless cancelled first: never
   * earlier, and at most about two ticks later.
   */
  Deadline arm(long limitMs, Runnable onExpiry) {
    long now = System.nanoTime();
    long nowTick = Math.floorDiv(now, TICK_NANOS);
    if (timerId < 0) {
      doneTick = nowTick;
      timerId = vertx.setPeriodic(TICK_MS, id -> expireDue());
    }
    // The first tick that starts at or after the deadline: a tick is due once it has started.
    long dueNanos = now + Math.min(Math.max(limitMs, 0), MAX_LIMIT_MS) * 1_000_000L;
    long tick = Math.max(-Math.floorDiv(-dueNanos, TICK_NANOS), doneTick + 1);
    Deadline deadline = new Deadline(tick, onExpiry);
    int bucket = bucketOf(tick);
    Deadline head = buckets[bucket];
    deadline.next = head;
    if (head != null) {
      head.previous = deadline;
    }
    buckets[bucket] = deadline;
    pending++;
    return deadline;
  }

  int pending() {
    return pending;
  }

  boolean ticking() {
    return timerId >= 0;
  }

  private void expireDue() {
    long nowTick = Math.floorDiv(System.nanoTime(), TICK_NANOS);
    List<Deadline> due = new ArrayList<>();
    // Each bucket once at most, however late this tick runs.
    long last = Math.min(nowTick, doneTick + buckets.length);
    for (long tick = doneTick + 1; tick <= last; tick++) {
      for (Deadline d = buckets[bucketOf(tick)]; d != null; d = d.next) {
        if (d.tick <= nowTick) {
          due.add(d);
        }
      }
    }
    doneTick = nowTick;
    for (Deadline d : due) {
      unlink(d);
    }
    for (Deadline d : due) {
      d.onExpiry.run();
    }
    if (pending == 0 && timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  private void unlink(Deadline d) {
    d.armed = false;
    if (d.previous != null) {
      d.previous.next = d.next;
    } else {
      buckets[bucketOf(d.tick)] = d.next;
    }
    if (d.next != null) {
      d.next.previous = d.previous;
    }
    d.previous = null;
    d.next = null;
    pending--;
  }

  private int bucketOf(long tick) {
    return (int) (tick & (buckets.length - 1));
  }
}
