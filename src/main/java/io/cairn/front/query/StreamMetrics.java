package io.cairn.front.query;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Meters of the native streams, shared by every front instance on one registry. */
final class StreamMetrics {

  private static final Map<MeterRegistry, StreamMetrics> BY_REGISTRY =
      Collections.synchronizedMap(new WeakHashMap<>());

  final AtomicLong activeStreams = new AtomicLong();
  final AtomicLong waitingStreams = new AtomicLong();
  final AtomicLong streamsWaitingForRoom = new AtomicLong();
  final AtomicLong streamHeldBytes = new AtomicLong();
  final AtomicLong interactiveInflight = new AtomicLong();
  final AtomicLong pausedSessions = new AtomicLong();
  final Counter streamBytes;
  final Counter streamValues;

  private StreamMetrics(MeterRegistry registry) {
    Gauge.builder("cairn.stream.active", activeStreams, AtomicLong::get)
        .description("ExecuteStream calls in progress").register(registry);
    Gauge.builder("cairn.stream.waiting", waitingStreams, AtomicLong::get)
        .description("ExecuteStream calls waiting for their client to take what was sent before reading more")
        .register(registry);
    Gauge.builder("cairn.stream.waiting.room", streamsWaitingForRoom, AtomicLong::get)
        .description("ExecuteStream calls waiting for stream.max-front-bytes to have room before reading more")
        .register(registry);
    Gauge.builder("cairn.stream.held", streamHeldBytes, AtomicLong::get).baseUnit("bytes")
        .description("bytes of chunks ExecuteStream calls have written and their clients not yet taken")
        .register(registry);
    streamBytes = Counter.builder("cairn.stream.read").baseUnit("bytes")
        .description("bytes of keys and values ExecuteStream calls have read from storage").register(registry);
    streamValues = Counter.builder("cairn.stream.values")
        .description("values ExecuteStream calls have sent").register(registry);
    Gauge.builder("cairn.interactive.inflight", interactiveInflight, AtomicLong::get)
        .description("queries read from ExecuteInteractive streams and not yet answered").register(registry);
    Gauge.builder("cairn.interactive.paused", pausedSessions, AtomicLong::get)
        .description("ExecuteInteractive streams not being read because they are at their in-flight bound")
        .register(registry);
  }

  static StreamMetrics of(MeterRegistry registry) {
    return BY_REGISTRY.computeIfAbsent(registry, StreamMetrics::new);
  }
}
