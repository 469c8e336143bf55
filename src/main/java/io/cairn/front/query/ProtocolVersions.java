package io.cairn.front.query;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.proto.v1.ProtocolVersion;

import java.util.List;

/** The versions of the native protocol this build speaks: 1.0 (the foundation) and 1.1 (the current one). */
final class ProtocolVersions {

  private ProtocolVersions() {}

  static final int MAJOR = 1;
  static final int MINOR = 1;
  static final List<String> SUPPORTED = List.of("1.0", "1.1");

  /** Refuses another major version; a request without a version speaks the current one. */
  static void check(boolean present, ProtocolVersion version) {
    if (present && version.getMajor() != MAJOR) {
      throw new CairnException(ErrorCode.FAILED_PRECONDITION, "protocol version " + version.getMajor() + "."
          + version.getMinor() + " is not supported; this server speaks " + String.join(", ", SUPPORTED)
          + " (any " + MAJOR + ".x client is served)");
    }
  }
}
