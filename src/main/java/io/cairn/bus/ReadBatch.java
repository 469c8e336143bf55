package io.cairn.bus;

import java.util.List;

/**
 * Several independent read requests that arrived at one front in the same event-loop turn, sent as one bus
 * message so that one hop to a reader (and one thread wake-up) serves them all. Each is evaluated on its own.
 */
public record ReadBatch(List<List<KvOp>> requests) {}
