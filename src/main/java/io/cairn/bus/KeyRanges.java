package io.cairn.bus;

import java.util.Arrays;

/** The keyspace's range convention, in one place: end null = the start key alone, end empty = no upper bound. */
public final class KeyRanges {
  private KeyRanges() {}

  /** Whether {@code key} sorts before the exclusive {@code end}; an empty end has no bound. */
  public static boolean before(byte[] key, byte[] end) {
    return end.length == 0 || Arrays.compareUnsigned(key, end) < 0;
  }

  /** Whether {@code key} lies in [start, end), or equals start when {@code end} is null. */
  public static boolean contains(byte[] key, byte[] start, byte[] end) {
    if (end == null) {
      return Arrays.equals(key, start);
    }
    return Arrays.compareUnsigned(key, start) >= 0 && before(key, end);
  }
}
