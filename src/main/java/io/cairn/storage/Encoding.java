package io.cairn.storage;

import io.cairn.bus.KeyValue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Byte layouts of the column families.
 * <ul>
 *   <li>{@code kv}: key → create_revision(8) mod_revision(8) version(8) lease(8) value(rest)</li>
 *   <li>{@code rev}: revision(8) sub(4), big-endian so history sorts by revision → type(1) key_length(4) key,
 *       then for a put the same 32-byte header and the value</li>
 *   <li>{@code hist}: escaped key, 0x00 0x01, revision(8) sub(4) → type(1). The index of {@code rev} by key: it
 *       finds a key's value at an old revision. Escaping (0x00 → 0x00 0xFF) keeps keys in byte order and makes
 *       the terminator sort before any longer key.</li>
 *   <li>{@code lease}: id(8) → granted TTL seconds(8); id(8) key → empty, one per attached key</li>
 *   <li>{@code meta}: ASCII names → big-endian longs (and the alarm list)</li>
 * </ul>
 */
final class Encoding {

  static final int HEADER = 32;
  static final byte EVENT_PUT = 0;
  static final byte EVENT_DELETE = 1;
  static final byte[] EMPTY = new byte[0];

  private Encoding() {}

  static byte[] storedValue(long createRevision, long modRevision, long version, long lease, byte[] value) {
    return ByteBuffer.allocate(HEADER + value.length)
        .putLong(createRevision).putLong(modRevision).putLong(version).putLong(lease).put(value).array();
  }

  static KeyValue keyValue(byte[] key, byte[] stored, boolean withValue) {
    return keyValue(key, stored, 0, stored.length, withValue);
  }

  /** Decodes the stored value occupying {@code stored[offset, end)}. */
  static KeyValue keyValue(byte[] key, byte[] stored, int offset, int end, boolean withValue) {
    ByteBuffer b = ByteBuffer.wrap(stored, offset, end - offset);
    long create = b.getLong();
    long mod = b.getLong();
    long version = b.getLong();
    long lease = b.getLong();
    byte[] value = withValue ? Arrays.copyOfRange(stored, offset + HEADER, end) : EMPTY;
    return new KeyValue(key, value, create, mod, version, lease);
  }

  static long leaseOf(byte[] stored) {
    return ByteBuffer.wrap(stored).getLong(24);
  }

  static byte[] valueOf(byte[] stored) {
    return Arrays.copyOfRange(stored, HEADER, stored.length);
  }

  static byte[] revisionKey(long revision, int sub) {
    return ByteBuffer.allocate(12).putLong(revision).putInt(sub).array();
  }

  static long revisionOf(byte[] revisionKey) {
    return ByteBuffer.wrap(revisionKey).getLong();
  }

  static int subOf(byte[] revisionKey) {
    return ByteBuffer.wrap(revisionKey).getInt(8);
  }

  static byte[] putEvent(byte[] key, byte[] stored) {
    return ByteBuffer.allocate(1 + 4 + key.length + stored.length)
        .put(EVENT_PUT).putInt(key.length).put(key).put(stored).array();
  }

  static byte[] deleteEvent(byte[] key) {
    return ByteBuffer.allocate(1 + 4 + key.length).put(EVENT_DELETE).putInt(key.length).put(key).array();
  }

  static byte eventType(byte[] event) {
    return event[0];
  }

  static byte[] eventKey(byte[] event) {
    int length = ByteBuffer.wrap(event).getInt(1);
    return Arrays.copyOfRange(event, 5, 5 + length);
  }

  /** Offset of the stored value in a put event. */
  static int eventStoredOffset(byte[] event) {
    return 5 + ByteBuffer.wrap(event).getInt(1);
  }

  /** The escaped key without its terminator: a seek bound that sorts before every history entry of keys ≥ key. */
  static byte[] historyBound(byte[] key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + 14);
    for (byte b : key) {
      out.write(b);
      if (b == 0) {
        out.write(0xFF);
      }
    }
    return out.toByteArray();
  }

  /** Every history entry of exactly {@code key} starts with this. */
  static byte[] historyPrefix(byte[] key) {
    byte[] bound = historyBound(key);
    byte[] prefix = Arrays.copyOf(bound, bound.length + 2);
    prefix[bound.length + 1] = 1;
    return prefix;
  }

  static byte[] historyKey(byte[] key, long revision, int sub) {
    byte[] prefix = historyPrefix(key);
    return ByteBuffer.allocate(prefix.length + 12).put(prefix).putLong(revision).putInt(sub).array();
  }

  /** The user key of a history entry. */
  static byte[] historyUserKey(byte[] historyKey) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(historyKey.length - 14);
    for (int i = 0; i < historyKey.length - 12; i++) {
      byte b = historyKey[i];
      if (b == 0) {
        if (historyKey[i + 1] == 1) {
          break;
        }
        i++;
      }
      out.write(b);
    }
    return out.toByteArray();
  }

  static long historyRevision(byte[] historyKey) {
    return ByteBuffer.wrap(historyKey).getLong(historyKey.length - 12);
  }

  static int historySub(byte[] historyKey) {
    return ByteBuffer.wrap(historyKey).getInt(historyKey.length - 4);
  }

  /** The part of a history key that names its user key (prefix up to the revision). */
  static boolean sameHistoryKey(byte[] a, byte[] b) {
    return a.length == b.length && Arrays.equals(a, 0, a.length - 12, b, 0, b.length - 12);
  }

  static byte[] leaseKey(long id) {
    return longBytes(id);
  }

  static byte[] leaseAttachment(long id, byte[] key) {
    return ByteBuffer.allocate(8 + key.length).putLong(id).put(key).array();
  }

  static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static long longOf(byte[] bytes) {
    return bytes == null ? 0 : ByteBuffer.wrap(bytes).getLong();
  }


  static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }
}
