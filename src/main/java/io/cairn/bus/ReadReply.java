package io.cairn.bus;

import java.util.List;

/** Results in operation order, and the store revision they were all read at. */
public record ReadReply(long revision, List<KvResult> results) {}
