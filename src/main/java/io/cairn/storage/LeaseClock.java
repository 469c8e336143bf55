package io.cairn.storage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * When each lease expires. Lives on the writer's thread. Expiry deadlines are not persisted: like etcd, a
 * restarted server gives every lease its full TTL again, so a lease never expires because the server was down.
 *
 * <p>Each tick looks only at the leases due by then, in deadline order, as etcd's lessor does: a scan of every lease
 * four times a second held the writer 6-16 ms of each 250 with a million leases. Each live lease has one place in the
 * queue, at a deadline no later than its own; a keep-alive only moves its deadline on, and the queue catches up when
 * that place comes due. Revoked leases leave their place behind until it comes due, or until such places outnumber
 * the live leases and the queue is rebuilt.
 */
public final class LeaseClock {

  /** {@code limits.max-leases} 0: as many leases as a quarter of the maximum heap holds at 128 bytes each. */
  public static long defaultMaxLeases() {
    return Runtime.getRuntime().maxMemory() / 4 / 128;
  }

  private static final class Lease {
    final long id;
    final long grantedTtlSeconds;
    long deadlineNanos;
    /** Its deadline when it was queued; the order of the queue, fixed while it is there. */
    long queuedDeadlineNanos;
    boolean queued;
    boolean revoking;
    boolean revoked;

    Lease(long id, long grantedTtlSeconds, long deadlineNanos) {
      this.id = id;
      this.grantedTtlSeconds = grantedTtlSeconds;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final Map<Long, Lease> leases = new LinkedHashMap<>();
  private final PriorityQueue<Lease> due =
      new PriorityQueue<>(Comparator.comparingLong((Lease l) -> l.queuedDeadlineNanos));

  void granted(long id, long ttlSeconds, long nowNanos) {
    Lease lease = new Lease(id, ttlSeconds, nowNanos + TimeUnit.SECONDS.toNanos(ttlSeconds));
    Lease replaced = leases.put(id, lease);
    if (replaced != null) {
      replaced.revoked = true;
    }
    queue(lease);
  }

  void revoked(long id) {
    Lease lease = leases.remove(id);
    if (lease != null) {
      lease.revoked = true;
      if (due.size() > 2 * leases.size() + 1024) {
        rebuildQueue();
      }
    }
  }

  boolean exists(long id) {
    return leases.containsKey(id);
  }

  /** Restarts the countdown; returns the TTL in seconds, or 0 when the lease does not exist (etcd's answer). */
  long keepAlive(long id, long nowNanos) {
    Lease lease = leases.get(id);
    if (lease == null || lease.revoking) {
      return 0;
    }
    lease.deadlineNanos = Math.max(lease.deadlineNanos, nowNanos + TimeUnit.SECONDS.toNanos(lease.grantedTtlSeconds));
    return lease.grantedTtlSeconds;
  }

  /** Seconds left, rounded up, or -1 when the lease does not exist. */
  long remaining(long id, long nowNanos) {
    Lease lease = leases.get(id);
    if (lease == null) {
      return -1;
    }
    long left = lease.deadlineNanos - nowNanos;
    return left <= 0 ? 0 : (left + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1);
  }

  long granted(long id) {
    Lease lease = leases.get(id);
    return lease == null ? -1 : lease.grantedTtlSeconds;
  }

  List<Long> ids() {
    return new ArrayList<>(leases.keySet());
  }

  /** Leases past their deadline that are not being revoked yet; they are marked as being revoked. */
  List<Long> takeExpired(long nowNanos) {
    List<Long> expired = new ArrayList<>();
    List<Lease> keptAlive = new ArrayList<>();
    while (!due.isEmpty() && due.peek().queuedDeadlineNanos <= nowNanos) {
      Lease lease = due.poll();
      lease.queued = false;
      if (lease.revoked || lease.revoking) {
        continue;
      }
      if (lease.deadlineNanos > nowNanos) {
        keptAlive.add(lease);
      } else {
        lease.revoking = true;
        expired.add(lease.id);
      }
    }
    keptAlive.forEach(this::queue);
    return expired;
  }

  /** A revoke of an expired lease failed: try again at the next tick. */
  void retry(long id) {
    Lease lease = leases.get(id);
    if (lease != null && lease.revoking) {
      lease.revoking = false;
      queue(lease);
    }
  }

  int size() {
    return leases.size();
  }

  /** Places in the queue, revoked leases' left behind included. */
  int queued() {
    return due.size();
  }

  private void queue(Lease lease) {
    if (!lease.queued) {
      lease.queued = true;
      lease.queuedDeadlineNanos = lease.deadlineNanos;
      due.add(lease);
    }
  }

  private void rebuildQueue() {
    due.clear();
    for (Lease lease : leases.values()) {
      lease.queued = false;
      if (!lease.revoking) {
        queue(lease);
      }
    }
  }
}
