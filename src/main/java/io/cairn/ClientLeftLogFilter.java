package io.cairn;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops one ERROR that is no error: when a connection closes while answers wait in a stream's outbound queue (its
 * client stopped reading, then left), Vert.x 5.0.7 cancels each queued trailer through a null promise
 * ({@code VertxHttp2Stream}'s trailer write), and Netty logs the resulting NullPointerException with its stack for
 * every such stream. Nothing is lost: the stream's close is already under way and the rest of it still runs. Any
 * other event, including any other failure of that listener, passes.
 */
public final class ClientLeftLogFilter extends TurboFilter {

  static final String NETTY_CONNECTION_LOGGER = "io.netty.handler.codec.http2.DefaultHttp2Connection";
  static final String LISTENER_FAILED = "Caught Throwable from listener onStreamClosed";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
      Throwable thrown) {
    return thrown instanceof NullPointerException npe
        && NETTY_CONNECTION_LOGGER.equals(logger.getName())
        && format != null && format.startsWith(LISTENER_FAILED)
        && thrownByVertxCancellingAWrite(npe)
        ? FilterReply.DENY
        : FilterReply.NEUTRAL;
  }

  /** HotSpot may throw an often-thrown NullPointerException without its stack: one without a stack counts too. */
  private static boolean thrownByVertxCancellingAWrite(NullPointerException npe) {
    StackTraceElement[] at = npe.getStackTrace();
    return at.length == 0
        || at[0].getClassName().startsWith("io.vertx.core.http.impl.VertxHttp2Stream")
        && at[0].getMethodName().equals("cancel");
  }
}
