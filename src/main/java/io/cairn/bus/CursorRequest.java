package io.cairn.bus;

/**
 * A streaming read: a cursor holds one consistent view of the store open while its pages are taken one at a
 * time, so memory stays bounded whatever the result size. Every request is answered with a {@link CursorPage}.
 */
public sealed interface CursorRequest {

  /**
   * Opens a cursor over [start, end) (end empty: no bound) selecting what satisfies {@code where} (null: all),
   * skipping {@code offset} matches and stopping after {@code limit} (0: none), and answers the first page.
   */
  record Open(byte[] start, byte[] end, ValuePredicate where, long offset, long limit, boolean keysOnly,
              int maxItems, int maxBytes) implements CursorRequest {}

  /** The next page: at most {@code maxItems} values or about {@code maxBytes} of keys and values. */
  record Next(long cursorId, int maxItems, int maxBytes) implements CursorRequest {}

  /** Releases the cursor's view; closing an unknown or finished cursor is not an error. */
  record Close(long cursorId) implements CursorRequest {}
}
