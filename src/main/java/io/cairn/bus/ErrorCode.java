package io.cairn.bus;

/**
 * Errors that cross the event bus, numbered as gRPC status codes so that a front can answer with the exact status
 * the storage or cluster side chose.
 */
public enum ErrorCode {
  CANCELLED(1),
  UNKNOWN(2),
  INVALID_ARGUMENT(3),
  DEADLINE_EXCEEDED(4),
  NOT_FOUND(5),
  ALREADY_EXISTS(6),
  PERMISSION_DENIED(7),
  RESOURCE_EXHAUSTED(8),
  FAILED_PRECONDITION(9),
  ABORTED(10),
  OUT_OF_RANGE(11),
  UNIMPLEMENTED(12),
  INTERNAL(13),
  UNAVAILABLE(14),
  DATA_LOSS(15),
  UNAUTHENTICATED(16);

  public final int grpcCode;

  ErrorCode(int grpcCode) {
    this.grpcCode = grpcCode;
  }

  public static ErrorCode ofGrpcCode(int code) {
    for (ErrorCode c : values()) {
      if (c.grpcCode == code) {
        return c;
      }
    }
    return UNKNOWN;
  }
}
