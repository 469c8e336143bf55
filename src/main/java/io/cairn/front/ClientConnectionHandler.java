package io.cairn.front;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * The first handler of every client connection's pipeline. Answers that complete outside a socket read (a bus reply
 * from storage) are each flushed by Vert.x at once: one writev system call per response. Deferring the flush to the
 * end of the event loop's current run of tasks sends every response that completed meanwhile in one call; a lone
 * response waits only for that one task. Sitting next to the socket, it also counts the bytes the connection
 * receives and sends, HTTP/2 framing included, as etcd's {@code etcd_network_client_grpc_received_bytes_total} and
 * {@code etcd_network_client_grpc_sent_bytes_total}.
 */
final class ClientConnectionHandler extends FlushConsolidationHandler {

  private final Traffic traffic;
  /** Bytes written since the last flush: counted here, added to the shared counter once per flush. */
  private long unflushedBytes;

  ClientConnectionHandler(Traffic traffic) {
    super(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true);
    this.traffic = traffic;
  }

  /** The registry's two byte counters, shared by every connection of every front. */
  record Traffic(Counter received, Counter sent) {
    static Traffic of(MeterRegistry registry) {
      return new Traffic(
          Counter.builder("etcd.network.client.grpc.received").baseUnit("bytes")
              .description("The total number of bytes received from grpc clients.").register(registry),
          Counter.builder("etcd.network.client.grpc.sent").baseUnit("bytes")
              .description("The total number of bytes sent to grpc clients.").register(registry));
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    int bytes = readableBytes(msg);
    if (bytes > 0) {
      traffic.received.increment(bytes);
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    unflushedBytes += readableBytes(msg);
    super.write(ctx, msg, promise);
  }

  @Override
  public void flush(ChannelHandlerContext ctx) throws Exception {
    countSent();
    super.flush(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
    countSent();
    super.handlerRemoved(ctx);
  }

  private void countSent() {
    if (unflushedBytes > 0) {
      traffic.sent.increment(unflushedBytes);
      unflushedBytes = 0;
    }
  }

  private static int readableBytes(Object msg) {
    if (msg instanceof ByteBuf buf) {
      return buf.readableBytes();
    }
    return msg instanceof ByteBufHolder holder ? holder.content().readableBytes() : 0;
  }
}
