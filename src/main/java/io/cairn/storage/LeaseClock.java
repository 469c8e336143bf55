package io.cairn.storage;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * When each lease expires. Lives on the writer's event loop. Expiry deadlines are not persisted: like etcd, a
 * restarted server gives every lease its full TTL again, so a lease never expires because the server was down.
 */
final class LeaseClock {

  private record Lease(long grantedTtlSeconds, long deadlineNanos) {}

  private final Map<Long, Lease> leases = new LinkedHashMap<>();
  private final Set<Long> revoking = new HashSet<>();

  void granted(long id, long ttlSeconds, long nowNanos) {
    leases.put(id, new Lease(ttlSeconds, nowNanos + TimeUnit.SECONDS.toNanos(ttlSeconds)));
  }

  void revoked(long id) {
    leases.remove(id);
    revoking.remove(id);
  }

  boolean exists(long id) {
    return leases.containsKey(id);
  }

  /** Restarts the countdown; returns the TTL in seconds, or 0 when the lease does not exist (etcd's answer). */
  long keepAlive(long id, long nowNanos) {
    Lease lease = leases.get(id);
    if (lease == null || revoking.contains(id)) {
      return 0;
    }
    granted(id, lease.grantedTtlSeconds, nowNanos);
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
    leases.forEach((id, lease) -> {
      if (lease.deadlineNanos <= nowNanos && revoking.add(id)) {
        expired.add(id);
      }
    });
    return expired;
  }

  /** A revoke of an expired lease failed: try again at the next tick. */
  void retry(long id) {
    revoking.remove(id);
  }

  int size() {
    return leases.size();
  }
}
