package io.cairn.front;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.util.ArrayDeque;

/**
 * A call whose client sends a stream of messages ({@code ExecuteInteractive}), as vertx-grpc reads it: each message
 * counts under {@code front.max-inflight-bytes} from the moment its length arrives (the 5-byte gRPC prefix) until
 * the handler that took it ({@link #take}) gives it back ({@link #release}), typically once it is answered. A
 * session pipelines up to {@code stream.interactive-max-inflight} queries; without this, eight sessions of 1 MB
 * sets ran a 128 MiB heap out, each within its own bound.
 *
 * <p>A message that does not fit waits, with the rest of the body behind it, until bytes are given back on the
 * front: the stream is not read meanwhile (its client is held back by HTTP/2 flow control). Streams waiting for bytes
 * go on in the order they began to wait ({@link RpcGuard#releaseBytes}). A stream is never refused for bytes: what
 * it waits for is answers, of its own or of other calls, and a unary call past the bound is refused instead.
 */
final class StreamBudget extends CountedRequest implements RpcGuard.StreamBytes {

  /** The sizes of the messages counted and not yet taken, in the order they arrived. */
  private final ArrayDeque<Long> arrived = new ArrayDeque<>();
  private Handler<Buffer> reader;
  private int prefixSeen;
  private long announced;
  /** Bytes of the current message still to come. */
  private long remaining;
  /** The size of the message that did not fit, -1 when none waits; the body after its length waits in heldBack. */
  private long waiting = -1;
  private Buffer heldBack;
  private boolean pausedByReader;
  private boolean ended;

  StreamBudget(HttpServerRequest request, RpcGuard guard, long maxMessageSize, GrpcServerMetrics.Method method) {
    super(request, guard, maxMessageSize, method);
  }

  @Override
  void ended() {
    ended = true;
    if (waiting >= 0) {
      guard.stopWaiting(this);
      waiting = -1;
      heldBack = null;
    }
    arrived.clear();
  }

  @Override
  public long take() {
    Long size = arrived.poll();
    return size == null ? 0 : size;
  }

  @Override
  public void release(long bytes) {
    if (ended || bytes == 0) {
      return;
    }
    held -= bytes;
    guard.releaseBytes(bytes);
  }

  /**
   * Counts the message that waits, if it fits now, and reads on; false when it still does not fit. The guard calls
   * it, first come first served, after bytes were given back.
   */
  boolean tryToGoOn() {
    if (waiting < 0) {
      return true;
    }
    if (!fits(waiting)) {
      return false;
    }
    waiting = -1;
    Buffer rest = heldBack;
    heldBack = null;
    if (!pausedByReader) {
      delegate.resume();
    }
    receive(rest);
    return true;
  }

  @Override
  public HttpServerRequest handler(Handler<Buffer> handler) {
    reader = handler;
    delegate.handler(handler == null ? null : this::receive);
    return this;
  }

  @Override
  public HttpServerRequest pause() {
    pausedByReader = true;
    delegate.pause();
    return this;
  }

  @Override
  public HttpServerRequest resume() {
    pausedByReader = false;
    if (waiting < 0) {
      delegate.resume();
    }
    return this;
  }

  /** Passes the chunk on, counting each message whose length it completes; stops at one that does not fit. */
  private void receive(Buffer chunk) {
    if (ended) {
      return;
    }
    int length = chunk.length();
    int position = 0;
    while (position < length) {
      if (remaining > 0) {
        int skipped = (int) Math.min(remaining, length - position);
        position += skipped;
        remaining -= skipped;
        continue;
      }
      int b = chunk.getByte(position++) & 0xff;
      announced = prefixSeen == 0 ? 0 : announced << 8 | b;
      if (++prefixSeen < PREFIX_BYTES) {
        continue;
      }
      prefixSeen = 0;
      remaining = announced;
      if (announced > maxMessageSize) {
        continue;
      }
      if (!fits(announced)) {
        waiting = announced;
        heldBack = chunk.slice(position, length);
        delegate.pause();
        guard.waitForBytes(this);
        forward(chunk.slice(0, position));
        return;
      }
    }
    forward(chunk);
  }

  private boolean fits(long size) {
    if (!guard.reserveBytes(size)) {
      return false;
    }
    held += size;
    arrived.add(size);
    return true;
  }

  private void forward(Buffer chunk) {
    if (chunk.length() > 0 && reader != null) {
      reader.handle(chunk);
    }
  }
}
