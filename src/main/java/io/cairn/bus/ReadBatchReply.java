package io.cairn.bus;

import java.util.List;

/** One outcome per request of a {@link ReadBatch}, in order: a {@link ReadReply} or the {@link CairnException}. */
public record ReadBatchReply(List<Object> outcomes) {}
