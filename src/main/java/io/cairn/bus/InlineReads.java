package io.cairn.bus;

import java.util.List;

/**
 * Storage's offer to answer a small read on the caller's own thread, a front's event loop, instead of through a
 * reader: one bus hop and two thread wake-ups less. It answers only what it can from memory (memtables and the
 * block cache) within a bounded number of keys, and declines the rest, which then goes to a reader as before.
 */
public interface InlineReads {

  /**
   * The reply, or null when the read must go to a reader (it would touch the disk, is too large, or the store is
   * busy closing). Never blocks on I/O.
   *
   * @throws CairnException when the store refuses the read itself (a compacted or future revision)
   */
  ReadReply tryRead(List<KvOp> ops);
}
