package io.cairn.bus;

import java.util.List;

/**
 * One outcome per request of a {@link ReadBatch}, in order: a {@link ReadReply}, the {@link CairnException}, or
 * {@link #RUN_AGAIN} for a request the batch did not run because the answers before it already hold {@code
 * storage.max-read-bytes}: its sender sends it again.
 */
public record ReadBatchReply(List<Object> outcomes) {

  public static final Object RUN_AGAIN = new Object() {
    @Override
    public String toString() {
      return "not run: the batch's answers before it already hold storage.max-read-bytes";
    }
  };
}
