package io.cairn.front;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * A call with one request message, as vertx-grpc reads it, counted under {@code front.max-inflight-bytes} from the
 * moment its message's length arrives (the first 5 bytes of its body) instead of once the whole message has: a
 * message being received is buffered whole on the heap, and 500 requests of 1 MB arriving at the same instant ran a
 * 512 MiB heap out before any was complete. Past the bound the call is answered RESOURCE_EXHAUSTED at once and the
 * rest of its body is dropped as it arrives. The bytes are given back when the response ends.
 */
final class BudgetedRequest extends CountedRequest {

  private int prefixSeen;
  private long announced;
  private boolean refused;
  private Handler<Throwable> exceptionHandler;

  BudgetedRequest(HttpServerRequest request, RpcGuard guard, long maxMessageSize, GrpcServerMetrics.Method method) {
    super(request, guard, maxMessageSize, method);
  }

  @Override
  public HttpServerRequest exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    delegate.exceptionHandler(handler);
    return this;
  }

  @Override
  public HttpServerRequest handler(Handler<Buffer> handler) {
    if (handler == null) {
      delegate.handler(null);
    } else {
      delegate.handler(chunk -> {
        if (!refused && (prefixSeen == PREFIX_BYTES || admit(chunk))) {
          handler.handle(chunk);
        }
      });
    }
    return this;
  }

  /** Reads the message length as it arrives; false when the call was refused, its chunks to be dropped. */
  private boolean admit(Buffer chunk) {
    if (prefixSeen == 0 && chunk.length() >= PREFIX_BYTES) {
      announced = chunk.getUnsignedInt(1);
      prefixSeen = PREFIX_BYTES;
    } else {
      for (int i = 0; i < chunk.length() && prefixSeen < PREFIX_BYTES; i++, prefixSeen++) {
        if (prefixSeen > 0) {
          announced = announced << 8 | (chunk.getByte(i) & 0xff);
        }
      }
    }
    if (prefixSeen < PREFIX_BYTES || announced > maxMessageSize) {
      return true;
    }
    if (delegate.response().ended()) {
      // already answered without it (refused as it came, or past its deadline): nothing would read the message
      refused = true;
      return false;
    }
    if (!guard.reserveBytes(announced)) {
      refuse();
      return false;
    }
    held = announced;
    return true;
  }

  /**
   * Answers with the status alone (a trailers-only response), and fails the call's read with the same error, so that
   * its handler lets go of it at once (a late answer of its own is ignored). The rest of the body is dropped as it
   * arrives. The stream is not reset: Vert.x's own HTTP/2 client fails on a reset that follows a complete answer.
   */
  private void refuse() {
    refused = true;
    String message = guard.bytesRefusal();
    HttpServerResponse response = delegate.response();
    try {
      // the message is printable ASCII without '%': valid as grpc-message without percent-encoding
      response.putHeader("content-type", "application/grpc")
          .putHeader("grpc-status", String.valueOf(ErrorCode.RESOURCE_EXHAUSTED.grpcCode))
          .putHeader("grpc-message", message)
          .end();
    } catch (RuntimeException e) {
      if (!RpcGuard.clientLeft(e)) {
        throw e;
      }
    }
    if (exceptionHandler != null) {
      exceptionHandler.handle(new CairnException(ErrorCode.RESOURCE_EXHAUSTED, message));
    }
  }
}
