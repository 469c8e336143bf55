package io.cairn.snapshot;

import java.io.IOException;

/** A snapshot file that cannot be used, with the reason in words an operator can act on. */
public final class SnapshotException extends IOException {

  public SnapshotException(String message) {
    super(message);
  }

  public SnapshotException(String message, Throwable cause) {
    super(message, cause);
  }
}
