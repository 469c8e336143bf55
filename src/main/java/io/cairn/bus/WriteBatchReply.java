package io.cairn.bus;

import java.util.List;

/** One outcome per request of a {@link WriteBatch}, in order: a {@link WriteReply} or the {@link CairnException}. */
public record WriteBatchReply(List<Object> outcomes) {}
