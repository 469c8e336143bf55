package io.cairn.storage;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Values read as JSON documents: a value whose text is a JSON object or array. Field paths walk objects by name
 * and arrays by index.
 */
final class JsonDocuments {

  private JsonDocuments() {}

  /** Marks a path that leads nowhere, as opposed to a field holding JSON null. */
  static final Object MISSING = new Object();

  /** The document in {@code value}, or null when the value is not a JSON object or array. */
  static Object parse(byte[] value) {
    int i = 0;
    while (i < value.length && isWhitespace(value[i])) {
      i++;
    }
    if (i == value.length || (value[i] != '{' && value[i] != '[')) {
      return null;
    }
    try {
      Object decoded = Json.decodeValue(Buffer.buffer(value));
      return decoded instanceof JsonObject || decoded instanceof JsonArray ? decoded : null;
    } catch (DecodeException e) {
      return null;
    }
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  /** The value at {@code path} in {@code document}, or {@link #MISSING}. */
  static Object lookup(Object document, List<String> path) {
    Object current = document;
    for (String segment : path) {
      current = child(current, segment);
      if (current == MISSING) {
        return MISSING;
      }
    }
    return current;
  }

  static Object child(Object node, String segment) {
    if (node instanceof JsonObject o) {
      return o.containsKey(segment) ? normalize(o.getValue(segment)) : MISSING;
    }
    if (node instanceof JsonArray a) {
      int index = arrayIndex(segment);
      return index >= 0 && index < a.size() ? normalize(a.getValue(index)) : MISSING;
    }
    return MISSING;
  }

  /** The index a path segment names, or -1 when it is not a plain non-negative integer. */
  static int arrayIndex(String segment) {
    if (segment.isEmpty() || segment.length() > 9) {
      return -1;
    }
    for (int i = 0; i < segment.length(); i++) {
      if (segment.charAt(i) < '0' || segment.charAt(i) > '9') {
        return -1;
      }
    }
    return Integer.parseInt(segment);
  }

  @SuppressWarnings("unchecked")
  static Object normalize(Object v) {
    if (v instanceof Map<?, ?> m) {
      return new JsonObject((Map<String, Object>) m);
    }
    if (v instanceof List<?> l) {
      return new JsonArray(l);
    }
    return v;
  }

  /** Equality by JSON meaning: numbers by value (1 equals 1.0), objects and arrays member by member. */
  static boolean jsonEquals(Object a, Object b) {
    a = normalize(a);
    b = normalize(b);
    if (a == null || b == null) {
      return a == b;
    }
    if (a instanceof Number x && b instanceof Number y) {
      return decimal(x).compareTo(decimal(y)) == 0;
    }
    if (a instanceof JsonObject x && b instanceof JsonObject y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (String name : x.fieldNames()) {
        if (!y.containsKey(name) || !jsonEquals(x.getValue(name), y.getValue(name))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof JsonArray x && b instanceof JsonArray y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!jsonEquals(x.getValue(i), y.getValue(i))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  /** The order of two numbers or two strings; null when they do not order (other types, or mixed). */
  static Integer order(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return decimal(x).compareTo(decimal(y));
    }
    if (a instanceof String x && b instanceof String y) {
      return Integer.signum(x.compareTo(y));
    }
    return null;
  }

  static BigDecimal decimal(Number n) {
    if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
      return BigDecimal.valueOf(n.longValue());
    }
    if (n instanceof BigInteger b) {
      return new BigDecimal(b);
    }
    if (n instanceof BigDecimal d) {
      return d;
    }
    return BigDecimal.valueOf(n.doubleValue());
  }

  /** A sum that stays integral when both numbers are and the result fits in a long. */
  static Number add(Number a, Number b) {
    boolean integral = !(a instanceof Double || a instanceof Float || a instanceof BigDecimal)
        && !(b instanceof Double || b instanceof Float || b instanceof BigDecimal);
    BigDecimal sum = decimal(a).add(decimal(b));
    if (integral) {
      try {
        return sum.longValueExact();
      } catch (ArithmeticException overflow) {
        return sum.toBigIntegerExact();
      }
    }
    return sum.doubleValue();
  }

  static byte[] encode(Object document) {
    if (document instanceof JsonObject o) {
      return o.toBuffer().getBytes();
    }
    return ((JsonArray) document).toBuffer().getBytes();
  }
}
