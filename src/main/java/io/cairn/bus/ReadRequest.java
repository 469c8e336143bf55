package io.cairn.bus;

import java.util.List;

/** Read-only operations evaluated against one consistent view of the store. */
public record ReadRequest(List<KvOp> ops) {}
