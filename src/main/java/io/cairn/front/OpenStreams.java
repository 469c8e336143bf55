package io.cairn.front;

import io.vertx.core.http.HttpConnection;

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
 */
public final class OpenStreams {

  /** A stream that stays open at its client's will. */
  @FunctionalInterface
  public interface Stream {
    /** The front stops: answer what was taken on, take nothing more, then end. */
    void frontStopping();
  }

  private final Map<HttpConnection, Set<Stream>> open = new HashMap<>();
  private final Set<HttpConnection> shutDown = new HashSet<>();
  private boolean stopping;

  /**
   * Counts the stream as open until {@link #closed}; one opened on a connection already shut down is told at once.
   * Streams opened while the front stops wait for their connection's GOAWAY like the others: told earlier, their
   * clients would open them again on the same connection.
   */
  public void opened(HttpConnection connection, Stream stream) {
    if (shutDown.contains(connection)) {
      stream.frontStopping();
      return;
    }
    Set<Stream> streams = open.get(connection);
    if (streams == null) {
      streams = new LinkedHashSet<>();
      open.put(connection, streams);
      connection.shutdownHandler(v -> connectionShutDown(connection));
    }
    streams.add(stream);
  }

  public void closed(HttpConnection connection, Stream stream) {
    Set<Stream> streams = open.get(connection);
    if (streams != null && streams.remove(stream) && streams.isEmpty()) {
      open.remove(connection);
    }
  }

  /** From now on, a connection that shuts down has its streams told. */
  public void frontStopping() {
    stopping = true;
  }

  /**
   * The connection sent or received a GOAWAY: if the front stops, its streams are told; otherwise its client is
   * the one leaving, and its streams end as it pleases.
   */
  private void connectionShutDown(HttpConnection connection) {
    if (!stopping) {
      return;
    }
    shutDown.add(connection); // kept until the front is gone: it no longer accepts connections
    Set<Stream> streams = open.remove(connection);
    if (streams != null) {
      new ArrayList<>(streams).forEach(Stream::frontStopping);
    }
  }
}
