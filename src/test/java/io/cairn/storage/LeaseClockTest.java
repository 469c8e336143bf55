package io.cairn.storage;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Lease deadlines: what expires when, and what keep-alives, revokes and failed revokes change. */
class LeaseClockTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  @Test
  void leasesExpireOnceEachWhenTheirDeadlinePasses() {
    LeaseClock clock = new LeaseClock();
    clock.granted(1, 10, 0);
    clock.granted(2, 5, 0);
    clock.granted(3, 20, 0);
    assertThat(clock.takeExpired(5 * SECOND - 1)).isEmpty();
    assertThat(clock.takeExpired(5 * SECOND)).containsExactly(2L);
    assertThat(clock.takeExpired(15 * SECOND)).containsExactly(1L);
    assertThat(clock.takeExpired(15 * SECOND)).as("being revoked: not handed out again").isEmpty();
    assertThat(clock.keepAlive(1, 15 * SECOND)).as("a lease being revoked cannot be kept alive").isZero();
    assertThat(clock.takeExpired(30 * SECOND)).containsExactly(3L);
  }

  @Test
  void aKeepAliveMovesTheDeadlineOn() {
    LeaseClock clock = new LeaseClock();
    clock.granted(1, 10, 0);
    assertThat(clock.keepAlive(1, 8 * SECOND)).isEqualTo(10);
    assertThat(clock.remaining(1, 8 * SECOND)).isEqualTo(10);
    assertThat(clock.takeExpired(10 * SECOND)).isEmpty();
    assertThat(clock.keepAlive(1, 17 * SECOND)).isEqualTo(10);
    assertThat(clock.takeExpired(26 * SECOND)).isEmpty();
    assertThat(clock.takeExpired(27 * SECOND)).containsExactly(1L);
    assertThat(clock.keepAlive(99, 0)).as("unknown lease").isZero();
  }

  @Test
  void aRevokedLeaseNeverExpiresAndAFailedRevokeIsTriedAgain() {
    LeaseClock clock = new LeaseClock();
    clock.granted(1, 5, 0);
    clock.granted(2, 5, 0);
    clock.revoked(1);
    assertThat(clock.exists(1)).isFalse();
    assertThat(clock.remaining(1, 0)).isEqualTo(-1);
    assertThat(clock.takeExpired(6 * SECOND)).containsExactly(2L);
    clock.retry(2);
    assertThat(clock.takeExpired(6 * SECOND)).as("tried again at the next tick").containsExactly(2L);
    clock.revoked(2);
    assertThat(clock.takeExpired(60 * SECOND)).isEmpty();
    assertThat(clock.size()).isZero();
  }

  @Test
  void grantingAndRevokingLongLeasesLeavesTheQueueBounded() {
    LeaseClock clock = new LeaseClock();
    for (long id = 1; id <= 100_000; id++) {
      clock.granted(id, 9_000_000_000L, 0);
      clock.revoked(id);
    }
    clock.granted(100_001, 9_000_000_000L, 0);
    assertThat(clock.size()).isEqualTo(1);
    assertThat(clock.queued()).isLessThanOrEqualTo(2 * clock.size() + 1025);
    assertThat(clock.ids()).containsExactly(100_001L);
  }
}
