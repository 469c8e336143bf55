package io.cairn.bus;

import java.util.List;

/**
 * What the storage writer reports about the store. {@code appliedIndex} counts the write requests applied since
 * the store was created; {@code alarms} are the raised ones.
 */
public record StorageStatus(boolean open, long revision, long keyCount, long dbSizeBytes, long compactRevision,
                            long appliedIndex, List<AlarmReply.Alarm> alarms) {}
