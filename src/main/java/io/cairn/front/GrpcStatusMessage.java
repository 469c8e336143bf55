package io.cairn.front;

import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.StatusException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Ends calls with an error status whose {@code grpc-message} is percent-encoded only where gRPC requires it: bytes
 * outside printable ASCII, and '%'. vertx-grpc URL-encodes it whole ("etcdserver%3A requested lease not found"),
 * which grpc-java and grpc-go decode, but grpc-js decodes with {@code decodeURI}, which leaves ':' and other
 * reserved characters encoded: its clients (the {@code etcd3} npm package) then fail to recognise etcd's error
 * texts. This is how grpc-go, and so etcd, encodes it.
 */
public final class GrpcStatusMessage {

  private static final String MESSAGE = "grpc-message";
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private GrpcStatusMessage() {
  }

  /** Ends the call with {@code status} and {@code message}. */
  public static void fail(GrpcServerResponse<?, ?> response, GrpcStatus status, String message) {
    if (message != null) {
      // vertx-grpc writes its own grpc-message only where it finds none: in the headers of a response that is
      // nothing but its status, in the trailers of one whose headers have gone out
      String encoded = encode(message);
      try {
        response.headers().set(MESSAGE, encoded);
      } catch (IllegalStateException headersSent) {
        response.trailers().set(MESSAGE, encoded);
      }
    }
    response.fail(new StatusException(status, message));
  }

  /**
   * The status message of an answer as its server wrote it, or null. vertx-grpc's client reads it from the headers
   * alone, where only an answer that is nothing but its status carries it, and decodes a '+' as a space.
   */
  public static String received(GrpcClientResponse<?, ?> response) {
    String encoded = response.trailers().get(MESSAGE);
    if (encoded == null) {
      encoded = response.headers().get(MESSAGE);
    }
    return encoded == null ? null : decode(encoded);
  }

  /** gRPC's {@code Percent-Encoded} production read back; a '%' not followed by two hex digits stands for itself. */
  static String decode(String encoded) {
    if (encoded.indexOf('%') < 0) {
      return encoded;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(encoded.length());
    int plainFrom = 0;
    for (int i = 0; i + 2 < encoded.length(); i++) {
      int high = encoded.charAt(i) == '%' ? Character.digit(encoded.charAt(i + 1), 16) : -1;
      int low = high >= 0 ? Character.digit(encoded.charAt(i + 2), 16) : -1;
      if (low >= 0) {
        out.writeBytes(encoded.substring(plainFrom, i).getBytes(StandardCharsets.UTF_8));
        out.write(high << 4 | low);
        i += 2;
        plainFrom = i + 1;
      }
    }
    out.writeBytes(encoded.substring(plainFrom).getBytes(StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The message as gRPC's {@code Percent-Encoded} production, escaping no more than it must. */
  static String encode(String message) {
    byte[] utf8 = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = null;
    for (int i = 0; i < utf8.length; i++) {
      int b = utf8[i] & 0xff;
      boolean plain = b >= 0x20 && b <= 0x7e && b != '%';
      if (plain && out == null) {
        continue;
      }
      if (out == null) {
        out = new StringBuilder(utf8.length + 16).append(message, 0, i); // bytes before i are ASCII
      }
      if (plain) {
        out.append((char) b);
      } else {
        out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xf]);
      }
    }
    return out == null ? message : out.toString();
  }
}
