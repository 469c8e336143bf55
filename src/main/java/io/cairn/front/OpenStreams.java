package io.cairn.front;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.grpc.common.GrpcError;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The streams of one front that stay open for as long as their clients like (etcd watches and lease keep-alives,
 * interactive sessions), by connection. A graceful stop waits for every stream to end, so without being told these
 * would hold it for the whole {@code shutdown.timeout}. Once the front stops, each connection's streams are told as
 * soon as the connection has sent its GOAWAY (so their clients open no new stream on it, and reconnect to a front
 * still listening, if any): each answers what it has already taken on, then ends. Only a connection with such a
 * stream carries a shutdown handler: idle connections cost nothing more. Used on the front's event loop only.
 *
 * <p>Each such stream also gets hold of its HTTP/2 stream ({@link Opened#refuse}), which vertx-grpc does not
 * expose: its calls reach their handlers while {@link #dispatch} hands them over.
 */
public final class OpenStreams {

  /** A stream that stays open at its client's will. */
  @FunctionalInterface
  public interface Stream {
    /** The front stops: answer what was taken on, take nothing more, then end. */
    void frontStopping();
  }

  /** An open stream's hold on its HTTP/2 stream. */
  public static final class Opened {
    private final HttpServerResponse response;

    private Opened(HttpServerResponse response) {
      this.response = response;
    }

    /**
     * Resets the stream with REFUSED_STREAM, dropping whatever it still has queued for its client, as no status
     * could. gRPC clients report UNAVAILABLE, on which etcd's clients open their watches again from the revision
     * they had reached; on vertx-grpc's only reset, CANCEL, they would give them up. A stream already gone is
     * left as it is.
     */
    public void refuse() {
      try {
        response.reset(GrpcError.UNAVAILABLE.http2ResetCode);
      } catch (RuntimeException e) {
        if (!RpcGuard.clientLeft(e)) {
          throw e;
        }
      }
    }
  }

  private final Map<HttpConnection, Set<Stream>> open = new HashMap<>();
  private final Set<HttpConnection> shutDown = new HashSet<>();
  /** Connections with open streams whose client sent a GOAWAY first: their own shutdown has come and gone. */
  private final Set<HttpConnection> clientLeaving = new HashSet<>();
  private boolean stopping;
  /** The HTTP response of the call {@link #dispatch} is handing over; null otherwise. */
  private HttpServerResponse dispatching;

  /** Hands a call to vertx-grpc, whose handler opens the call's stream, if it stays open, before this returns. */
  public void dispatch(HttpServerRequest request, Handler<HttpServerRequest> grpc) {
    dispatching = request.response();
    try {
      grpc.handle(request);
    } finally {
      dispatching = null;
    }
  }

  /**
   * Counts the stream as open until {@link #closed}; one opened on a connection already shut down is told at once.
   * Streams opened while the front stops wait for their connection's GOAWAY like the others: told earlier, their
   * clients would open them again on the same connection. Only a call's handler, while {@link #dispatch} hands
   * the call over, may open its stream.
   */
  public Opened opened(HttpConnection connection, Stream stream) {
    if (dispatching == null) {
      throw new IllegalStateException("a stream opens only while its call is dispatched");
    }
    Opened opened = new Opened(dispatching);
    if (shutDown.contains(connection)) {
      stream.frontStopping();
      return opened;
    }
    Set<Stream> streams = open.get(connection);
    if (streams == null) {
      streams = new LinkedHashSet<>();
      open.put(connection, streams);
      connection.shutdownHandler(v -> connectionShutDown(connection));
    }
    streams.add(stream);
    return opened;
  }

  public void closed(HttpConnection connection, Stream stream) {
    Set<Stream> streams = open.get(connection);
    if (streams != null && streams.remove(stream) && streams.isEmpty()) {
      open.remove(connection);
      clientLeaving.remove(connection);
    }
  }

  /**
   * From now on, a connection that shuts down has its streams told; those of connections whose client has already
   * sent its GOAWAY are told at once, since theirs will not come again.
   */
  public void frontStopping() {
    stopping = true;
    new ArrayList<>(clientLeaving).forEach(this::tellStreams);
    clientLeaving.clear();
  }

  /**
   * The connection sent or received a GOAWAY: if the front stops, its streams are told; otherwise its client is
   * the one leaving, and its streams end as it pleases, or when the front stops.
   */
  private void connectionShutDown(HttpConnection connection) {
    if (stopping) {
      tellStreams(connection);
    } else if (open.containsKey(connection)) {
      clientLeaving.add(connection);
    }
  }

  private void tellStreams(HttpConnection connection) {
    shutDown.add(connection); // kept until the front is gone: it no longer accepts connections
    Set<Stream> streams = open.remove(connection);
    if (streams != null) {
      new ArrayList<>(streams).forEach(Stream::frontStopping);
    }
  }
}
