package io.cairn.bus;

import io.vertx.core.eventbus.ReplyException;

/** A failure with the status a client should see and a message a person can act on. */
public final class CairnException extends RuntimeException {

  private final ErrorCode code;

  public CairnException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public static CairnException invalid(String message) {
    return new CairnException(ErrorCode.INVALID_ARGUMENT, message);
  }

  public static CairnException exhausted(String message) {
    return new CairnException(ErrorCode.RESOURCE_EXHAUSTED, message);
  }

  /** Translates whatever failed a bus request, or a local step, into a client-facing error. */
  public static CairnException from(Throwable failure) {
    if (failure instanceof CairnException ce) {
      return ce;
    }
    if (failure instanceof ReplyException re) {
      return switch (re.failureType()) {
        case RECIPIENT_FAILURE -> new CairnException(ErrorCode.ofGrpcCode(re.failureCode()), re.getMessage());
        case TIMEOUT -> new CairnException(ErrorCode.DEADLINE_EXCEEDED,
            "the server did not answer in time; a write may still have been applied");
        case NO_HANDLERS -> new CairnException(ErrorCode.UNAVAILABLE,
            "the server is starting or stopping; retry shortly");
        default -> new CairnException(ErrorCode.INTERNAL, String.valueOf(re.getMessage()));
      };
    }
    return new CairnException(ErrorCode.INTERNAL, "internal error: " + failure);
  }
}
