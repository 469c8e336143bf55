package io.cairn.bus;

import java.util.List;

/**
 * What the storage writer reports about the store. {@code dbSizeInUseBytes} is the part of {@code dbSizeBytes}
 * that holds live data (the rest a defragmentation could give back). {@code appliedIndex} counts the write
 * requests applied since the store was created; {@code alarms} are the raised ones. {@code writeFailure} says why
 * the last group commit failed in the store, and since when its commits have failed; null when the last one
 * succeeded.
 */
public record StorageStatus(boolean open, long revision, long keyCount, long dbSizeBytes, long dbSizeInUseBytes,
                            long compactRevision, long appliedIndex, List<AlarmReply.Alarm> alarms, String writeFailure) {

  /** Open, and its last commit did not fail. */
  public boolean writable() {
    return open && writeFailure == null;
  }
}
