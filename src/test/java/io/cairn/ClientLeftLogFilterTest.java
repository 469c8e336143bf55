package io.cairn;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Only Vert.x's null-promise cancellation is dropped: every other failure on a stream's close is still logged. */
class ClientLeftLogFilterTest {

  private final ClientLeftLogFilter filter = new ClientLeftLogFilter();
  private final LoggerContext context = new LoggerContext();
  private final Logger netty = context.getLogger(ClientLeftLogFilter.NETTY_CONNECTION_LOGGER);

  @Test
  void dropsTheNullPointerExceptionOfACancelledTrailer() {
    assertThat(decide(netty, npeAt("io.vertx.core.http.impl.VertxHttp2Stream$3", "cancel")))
        .isEqualTo(FilterReply.DENY);
  }

  @Test
  void keepsOtherFailuresOfTheSameListener() {
    assertThat(decide(netty, npeAt("io.vertx.core.http.impl.Http2ServerStream", "onClose")))
        .isEqualTo(FilterReply.NEUTRAL);
    assertThat(decide(netty, new IllegalStateException("boom"))).isEqualTo(FilterReply.NEUTRAL);
    assertThat(filter.decide(null, netty, Level.ERROR, "Caught Throwable from listener onStreamAdded.", null,
        npeAt("io.vertx.core.http.impl.VertxHttp2Stream$3", "cancel"))).isEqualTo(FilterReply.NEUTRAL);
  }

  @Test
  void keepsTheSameExceptionFromAnyOtherLogger() {
    assertThat(decide(context.getLogger("io.cairn.front.RpcGuard"),
        npeAt("io.vertx.core.http.impl.VertxHttp2Stream$3", "cancel"))).isEqualTo(FilterReply.NEUTRAL);
  }

  private FilterReply decide(Logger logger, Throwable thrown) {
    return filter.decide(null, logger, Level.ERROR, "Caught Throwable from listener onStreamClosed.", null, thrown);
  }

  private static NullPointerException npeAt(String className, String method) {
    NullPointerException npe = new NullPointerException();
    npe.setStackTrace(new StackTraceElement[] {
        new StackTraceElement(className, method, null, 1),
        new StackTraceElement("io.netty.handler.codec.http2.DefaultHttp2Connection", "notifyClosed", null, 1)});
    return npe;
  }
}
