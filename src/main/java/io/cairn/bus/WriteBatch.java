package io.cairn.bus;

import java.util.List;

/**
 * Several independent write requests that arrived at one front in the same event-loop turn, sent as one bus
 * message: one hop to the writer and one reply for all of them. Each keeps its own revision and outcome, in order.
 */
public record WriteBatch(List<List<KvOp>> requests) {}
