package io.cairn.bus;

/** One snapshot file: where it is and what it holds. */
public record SnapshotInfo(String name, String path, long revision, long appliedIndex, long keyCount,
                           long entryCount, long sizeBytes, long createdMillis, long durationMillis,
                           String compression) {}
