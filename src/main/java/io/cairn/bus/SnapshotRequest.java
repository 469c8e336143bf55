package io.cairn.bus;

/** What the SnapshotVerticle is asked; see {@link Addresses#SNAPSHOT}. */
public sealed interface SnapshotRequest {

  /**
   * Takes a snapshot now → {@link SnapshotInfo}. A {@code transfer} snapshot is written for one download (an etcd
   * Snapshot stream, {@code cairn snapshot save}): it is not listed, not kept by retention nor uploaded, and the
   * caller deletes it with {@link Release} when done.
   */
  record Create(boolean transfer) implements SnapshotRequest {}

  /** The kept snapshots, newest first → {@link SnapshotList}. */
  record ListAll() implements SnapshotRequest {}

  /** Deletes a kept snapshot by name → {@link SnapshotInfo} of what was deleted; NOT_FOUND when absent. */
  record Delete(String name) implements SnapshotRequest {}

  /** Deletes a transfer snapshot once it has been streamed → null. */
  record Release(String path) implements SnapshotRequest {}
}
