package io.cairn.front;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;

/**
 * A gRPC call's request as vertx-grpc reads it, whose message bytes count under {@code front.max-inflight-bytes}
 * from the moment each message's length arrives (the first 5 bytes of its gRPC prefix). It is its response's end
 * handler: once the response ends (or its stream closes first) it counts the call as its method's and gives back
 * every byte it still holds.
 */
abstract class CountedRequest extends HttpServerRequestWrapper implements Handler<Void> {

  /** The gRPC message prefix: a compression flag, then the message length in 4 bytes, big-endian. */
  static final int PREFIX_BYTES = 5;

  final RpcGuard guard;
  /** The transport's own bound; vertx-grpc refuses longer messages without buffering them. */
  final long maxMessageSize;
  private final GrpcServerMetrics.Method method;
  /** Bytes this call counts under the bound. */
  long held;

  CountedRequest(HttpServerRequest request, RpcGuard guard, long maxMessageSize, GrpcServerMetrics.Method method) {
    super((HttpServerRequestInternal) request);
    this.guard = guard;
    this.maxMessageSize = maxMessageSize;
    this.method = method;
    request.response().endHandler(this);
  }

  @Override
  public final void handle(Void ended) {
    method.ended(delegate.response());
    ended();
    guard.releaseBytes(held);
    held = 0;
  }

  /** Lets go of what the call holds besides its counted bytes, once its response has ended. */
  void ended() {
  }
}
