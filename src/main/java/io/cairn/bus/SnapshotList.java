package io.cairn.bus;

import java.util.List;

/** The kept snapshots, newest first. */
public record SnapshotList(List<SnapshotInfo> snapshots) {}
