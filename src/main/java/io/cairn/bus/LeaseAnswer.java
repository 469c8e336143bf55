package io.cairn.bus;

import java.util.List;

/** Leases with their remaining TTL in seconds (-1 / 0 when the asked lease does not exist), at {@code revision}. */
public record LeaseAnswer(long revision, List<Lease> leases) {

  public record Lease(long id, long ttlSeconds, long grantedTtlSeconds, List<byte[]> keys) {}
}
