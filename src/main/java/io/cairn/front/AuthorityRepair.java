package io.cairn.front;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;
import io.vertx.core.net.HostAndPort;

/**
 * Takes the URL scheme off a request's {@code :authority} before Vert.x reads it. etcd's Go client, given an
 * endpoint written as a URL ({@code --endpoints=http://host:port}, or the client URLs {@code --cluster} reads from
 * the member list), dials that endpoint for maintenance calls (Status, HashKV, Defragment, Snapshot) with the whole
 * URL as the authority; Vert.x 5 resets a stream whose authority does not parse as host and port with
 * PROTOCOL_ERROR, where etcd serves it. An authority without '/' is left as it is, unread.
 */
final class AuthorityRepair extends Http2FrameListenerDecorator {

  private AuthorityRepair(Http2FrameListener listener) {
    super(listener);
  }

  /** Puts itself in front of the frame listener of the connection's HTTP/2 handler, if it has one. */
  static void install(ChannelPipeline pipeline) {
    Http2ConnectionHandler http2 = pipeline.get(Http2ConnectionHandler.class);
    if (http2 != null) {
      Http2ConnectionDecoder decoder = http2.decoder();
      decoder.frameListener(new AuthorityRepair(decoder.frameListener()));
    }
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                            boolean endOfStream) throws Http2Exception {
    repair(headers);
    super.onHeadersRead(ctx, streamId, headers, padding, endOfStream);
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                            short weight, boolean exclusive, int padding, boolean endOfStream)
      throws Http2Exception {
    repair(headers);
    super.onHeadersRead(ctx, streamId, headers, streamDependency, weight, exclusive, padding, endOfStream);
  }

  static void repair(Http2Headers headers) {
    CharSequence authority = headers.authority();
    if (authority == null || indexOf(authority, '/') < 0) {
      return;
    }
    String value = authority.toString();
    int scheme = value.indexOf("://");
    String host = scheme < 0 ? value : value.substring(scheme + 3);
    int path = host.indexOf('/');
    if (path >= 0) {
      host = host.substring(0, path);
    }
    if (HostAndPort.parseAuthority(host, -1) != null) {
      headers.authority(host);
    }
  }

  private static int indexOf(CharSequence text, char c) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == c) {
        return i;
      }
    }
    return -1;
  }
}
