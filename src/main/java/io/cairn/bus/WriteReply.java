package io.cairn.bus;

import java.util.List;

/**
 * Results in operation order. {@code revision} is the revision the request created, or the current revision when
 * it changed nothing (e.g. deleting a missing key).
 */
public record WriteReply(long revision, List<KvResult> results) {}
