package io.cairn.front.query;

import io.cairn.bus.CairnException;

import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * Where a paged filter goes on: the revision its first page read (later pages read the same one) and the last key
 * returned. Opaque to clients: URL-safe base64 of a version byte, the revision and the key.
 */
record Continuation(long revision, byte[] lastKey) {

  private static final byte FORMAT = 1;

  String encode() {
    ByteBuffer b = ByteBuffer.allocate(9 + lastKey.length).put(FORMAT).putLong(revision).put(lastKey);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static Continuation decode(String field, String token) {
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      raw = new byte[0];
    }
    if (raw.length < 10 || raw[0] != FORMAT) {
      throw CairnException.invalid(field + ": not a continuation token this server issued; pass the "
          + "continuation_token of the previous FilterResult unchanged");
    }
    ByteBuffer b = ByteBuffer.wrap(raw, 1, raw.length - 1);
    long revision = b.getLong();
    byte[] key = new byte[b.remaining()];
    b.get(key);
    return new Continuation(revision, key);
  }
}
