package io.cairn.storage;

import io.cairn.bus.KeyValue;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Byte layouts of the column families.
 * <ul>
 *   <li>{@code kv}: key → create_revision(8) mod_revision(8) version(8) lease(8) value(rest)</li>
 *   <li>{@code rev}: revision(8) sub(4), big-endian so history sorts by revision → type(1) key_length(4) key,
 *       then for a put the same 32-byte header and the value</li>
 *   <li>{@code meta}: ASCII names → big-endian longs</li>
 * </ul>
 */
final class Encoding {

  static final int HEADER = 32;
  static final byte EVENT_PUT = 0;
  static final byte EVENT_DELETE = 1;

  private Encoding() {}

  static byte[] storedValue(long createRevision, long modRevision, long version, long lease, byte[] value) {
    return ByteBuffer.allocate(HEADER + value.length)
        .putLong(createRevision).putLong(modRevision).putLong(version).putLong(lease).put(value).array();
  }

  static KeyValue keyValue(byte[] key, byte[] stored, boolean withValue) {
    ByteBuffer b = ByteBuffer.wrap(stored);
    long create = b.getLong();
    long mod = b.getLong();
    long version = b.getLong();
    long lease = b.getLong();
    byte[] value = withValue ? Arrays.copyOfRange(stored, HEADER, stored.length) : new byte[0];
    return new KeyValue(key, value, create, mod, version, lease);
  }

  static byte[] revisionKey(long revision, int sub) {
    return ByteBuffer.allocate(12).putLong(revision).putInt(sub).array();
  }

  static byte[] putEvent(byte[] key, byte[] stored) {
    return ByteBuffer.allocate(1 + 4 + key.length + stored.length)
        .put(EVENT_PUT).putInt(key.length).put(key).put(stored).array();
  }

  static byte[] deleteEvent(byte[] key) {
    return ByteBuffer.allocate(1 + 4 + key.length).put(EVENT_DELETE).putInt(key.length).put(key).array();
  }

  static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static long longOf(byte[] bytes) {
    return bytes == null ? 0 : ByteBuffer.wrap(bytes).getLong();
  }

  /** True while {@code key} sorts before the exclusive {@code end}. */
  static boolean before(byte[] key, byte[] end) {
    return Arrays.compareUnsigned(key, end) < 0;
  }
}
