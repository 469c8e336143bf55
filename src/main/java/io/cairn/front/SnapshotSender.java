package io.cairn.front;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.SnapshotInfo;
import io.cairn.bus.SnapshotRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams a fresh snapshot to one gRPC client: asks the SnapshotVerticle for a transfer snapshot, reads the file in
 * chunks and writes each one only when the response has room (a slow client slows the reading), then deletes the
 * file. The stream is the file's bytes followed by {@link Framing#padding} zero bytes; the framing turns chunks
 * into messages and may add a last one.
 */
public final class SnapshotSender<Resp> {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotSender.class);
  /** A snapshot of a large store takes a while; the client waits for it like etcd's clients wait for etcd's. */
  private static final long CREATE_TIMEOUT_MS = 3_600_000;

  /** How the bytes become messages. */
  public interface Framing<Resp> {
    /** Zero bytes to send after the file. */
    long padding(long fileSize);

    /** The message for one chunk; {@code remaining} counts the bytes left after it. */
    Resp chunk(SnapshotInfo snapshot, byte[] data, long remaining, boolean first);

    /** A message after the last chunk, or null. */
    Resp trailer();
  }

  private final Vertx vertx;
  private final GrpcServerRequest<?, Resp> request;
  private final GrpcServerResponse<?, Resp> response;
  private final int chunkSize;
  private final Framing<Resp> framing;
  private final Promise<Void> done = Promise.promise();
  private boolean cancelled;

  public SnapshotSender(Vertx vertx, GrpcServerRequest<?, Resp> request, int chunkSize, Framing<Resp> framing) {
    this.vertx = vertx;
    this.request = request;
    this.response = request.response();
    this.chunkSize = chunkSize;
    this.framing = framing;
  }

  /** Sends everything and ends the response; fails (without ending it) when the snapshot or the stream fails. */
  public Future<Void> send() {
    // A client that goes away while the sender waits for the response to drain must still end the transfer,
    // so that the file is closed and deleted.
    request.exceptionHandler(e -> clientLeft());
    request.errorHandler(error -> clientLeft()); // the client reset the stream
    response.exceptionHandler(e -> clientLeft());
    return vertx.eventBus().<SnapshotInfo>request(Addresses.SNAPSHOT, new SnapshotRequest.Create(true),
            new DeliveryOptions().setSendTimeout(CREATE_TIMEOUT_MS))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)))
        .compose(info -> vertx.fileSystem().open(info.path(), new OpenOptions().setRead(true))
            .compose(file -> {
              long total = info.sizeBytes() + framing.padding(info.sizeBytes());
              sendFrom(info, file, 0, total);
              return done.future().eventually(file::close);
            })
            .eventually(() -> vertx.eventBus().request(Addresses.SNAPSHOT,
                new SnapshotRequest.Release(info.path())).onFailure(e -> LOG.warn("releasing {} failed: {}",
                info.path(), e.toString()))));
  }

  private void clientLeft() {
    cancelled = true;
    done.tryFail(new CairnException(ErrorCode.CANCELLED, "the client went away"));
  }

  private void sendFrom(SnapshotInfo info, AsyncFile file, long position, long total) {
    if (cancelled || done.future().isComplete()) {
      done.tryFail(new CairnException(ErrorCode.CANCELLED, "the client went away"));
      return;
    }
    if (position >= total) {
      try {
        Resp last = framing.trailer();
        if (last != null) {
          response.write(last);
        }
        response.end();
        done.tryComplete();
      } catch (RuntimeException e) {
        if (!RpcGuard.clientLeft(e)) {
          throw e;
        }
        done.tryFail(new CairnException(ErrorCode.CANCELLED, "the client went away"));
      }
      return;
    }
    int length = (int) Math.min(chunkSize, total - position);
    long fromFile = Math.max(0, Math.min(length, info.sizeBytes() - position));
    Future<Buffer> read = fromFile > 0
        ? file.read(Buffer.buffer((int) fromFile), 0, position, (int) fromFile) : Future.succeededFuture(Buffer.buffer());
    read.onFailure(done::tryFail).onSuccess(buffer -> {
      if (buffer.length() != fromFile) {
        done.tryFail(new CairnException(ErrorCode.INTERNAL, "the snapshot file " + info.path() + " is shorter "
            + "than its recorded size"));
        return;
      }
      byte[] data = new byte[length];
      buffer.getBytes(0, buffer.length(), data, 0);
      long next = position + length;
      try {
        response.write(framing.chunk(info, data, total - next, position == 0));
      } catch (RuntimeException e) {
        if (!RpcGuard.clientLeft(e)) {
          throw e;
        }
        done.tryFail(new CairnException(ErrorCode.CANCELLED, "the client went away"));
        return;
      }
      if (response.writeQueueFull()) {
        response.drainHandler(v -> sendFrom(info, file, next, total));
      } else {
        sendFrom(info, file, next, total);
      }
    });
  }
}
