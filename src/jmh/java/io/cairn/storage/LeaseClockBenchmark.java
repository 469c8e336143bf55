package io.cairn.storage;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The writer's lease tick (four times a second) with many leases and none due, and a keep-alive: what the writer's
 * thread spends on leases whatever else it does.
 */
@State(Scope.Benchmark)
public class LeaseClockBenchmark {

  @Param({"100000", "1000000"})
  public int leases;

  private LeaseClock clock;
  private long next;

  @Setup(Level.Trial)
  public void grant() {
    clock = new LeaseClock();
    long now = System.nanoTime();
    for (long id = 1; id <= leases; id++) {
      clock.granted(id, 3600, now);
    }
  }

  @Benchmark
  public Object tick() {
    return clock.takeExpired(System.nanoTime());
  }

  @Benchmark
  public long keepAlive() {
    next = next % leases + 1;
    return clock.keepAlive(next, System.nanoTime());
  }
}
