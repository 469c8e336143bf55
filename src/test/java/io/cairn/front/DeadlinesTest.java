package io.cairn.front;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Request deadlines fire in order, never early, never once cancelled, and cost an idle server nothing. */
class DeadlinesTest {

  private final Vertx vertx = Vertx.vertx();
  private final Context loop = vertx.getOrCreateContext();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  private record Fired(String name, long afterMs) {}

  /** What happened, read on the event loop once the last deadline has fired. */
  private record Outcome(List<Fired> fired, int pending, boolean ticking) {}

  private Outcome run(Deadlines deadlines, long[] limitsMs, int cancelIndex) throws Exception {
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    loop.runOnContext(v -> {
      long start = System.nanoTime();
      List<Fired> fired = new ArrayList<>();
      int expected = limitsMs.length - (cancelIndex >= 0 ? 1 : 0);
      List<Deadlines.Deadline> armed = new ArrayList<>();
      for (long limit : limitsMs) {
        armed.add(deadlines.arm(limit, () -> {
          fired.add(new Fired(limit + " ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)));
          if (fired.size() == expected) {
            // the tick that fired the last deadline has returned by the time this task runs
            loop.runOnContext(w -> outcome.complete(new Outcome(fired, deadlines.pending(), deadlines.ticking())));
          }
        }));
      }
      if (cancelIndex >= 0) {
        armed.get(cancelIndex).cancel();
      }
    });
    return outcome.get(10, TimeUnit.SECONDS);
  }

  @Test
  void deadlinesFireInOrderNeverEarlyCancelledOnesNeverAndTheTickingStopsWhenNoneIsLeft() throws Exception {
    Deadlines deadlines = new Deadlines(vertx);
    Outcome outcome = run(deadlines, new long[] {60, 30, 1, 20}, 1);

    assertThat(outcome.fired()).extracting(Fired::name).containsExactly("1 ms", "20 ms", "60 ms");
    assertThat(outcome.fired()).allSatisfy(f -> assertThat(f.afterMs()).isGreaterThanOrEqualTo(
        Long.parseLong(f.name().split(" ")[0])));
    assertThat(outcome.pending()).isZero();
    assertThat(outcome.ticking()).isFalse();

    // and it starts ticking again for the next request
    assertThat(run(deadlines, new long[] {15}, -1).fired()).extracting(Fired::name).containsExactly("15 ms");
  }

  @Test
  void deadlinesArmedBetweenTicksStillNeverFireEarly() throws Exception {
    Deadlines deadlines = new Deadlines(vertx);
    int count = 20;
    CompletableFuture<List<Long>> elapsedMicros = new CompletableFuture<>();
    List<Long> fired = new ArrayList<>();
    loop.runOnContext(v -> {
      deadlines.arm(1_000, () -> { }); // keeps the wheel ticking from here on
      // one 20 ms deadline every 3 ms, so they are armed at every phase of the wheel's ticks
      for (int i = 0; i < count; i++) {
        vertx.setTimer(1 + 3L * i, id -> {
          long start = System.nanoTime();
          deadlines.arm(20, () -> {
            fired.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start));
            if (fired.size() == count) {
              elapsedMicros.complete(fired);
            }
          });
        });
      }
    });
    assertThat(elapsedMicros.get(10, TimeUnit.SECONDS)).allSatisfy(us -> assertThat(us).isGreaterThanOrEqualTo(20_000));
  }

  @Test
  void aDeadlineSeveralTurnsOfTheWheelAwayWaitsForItsTurn() throws Exception {
    // 4 buckets of 10 ms: 95 ms is more than two turns away, 25 ms less than one
    Outcome outcome = run(new Deadlines(vertx, 4), new long[] {95, 25}, -1);

    assertThat(outcome.fired()).extracting(Fired::name).containsExactly("25 ms", "95 ms");
    assertThat(outcome.fired().get(1).afterMs()).isGreaterThanOrEqualTo(95);
    assertThat(outcome.ticking()).isFalse();
  }
}
