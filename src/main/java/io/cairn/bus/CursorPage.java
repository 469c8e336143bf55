package io.cairn.bus;

import java.util.List;

/**
 * One page of a cursor read at {@code revision}. {@code done}: nothing follows and the cursor is already closed.
 * {@code bytes} counts the keys and values in the page. A page may be empty without being the last (a scan step
 * found no match).
 */
public record CursorPage(long cursorId, long revision, List<KeyValue> kvs, boolean done, long bytes) {}
