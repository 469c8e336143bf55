package io.cairn.bus;

import java.util.List;

/** Operations applied atomically, in order, as one revision; reads among them see the earlier writes. */
public record WriteRequest(List<KvOp> ops) {}
