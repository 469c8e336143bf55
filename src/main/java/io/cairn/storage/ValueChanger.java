package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.ValueUpdate;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Applies an update's changes to one value. */
final class ValueChanger {

  private ValueChanger() {}

  /**
   * The new value, or null when a JSON change meets a value that is not a JSON object (the value is skipped).
   * Throws FAILED_PRECONDITION, naming the key and the path, when a change cannot apply to the document.
   */
  static byte[] apply(byte[] key, byte[] value, List<ValueUpdate> changes) {
    byte[] current = value;
    JsonObject document = null;
    for (ValueUpdate change : changes) {
      if (change instanceof ValueUpdate.Replace r) {
        current = r.value();
        document = null;
        continue;
      }
      if (document == null) {
        if (!(JsonDocuments.parse(current) instanceof JsonObject parsed)) {
          return null;
        }
        document = parsed;
      }
      if (change instanceof ValueUpdate.SetField s) {
        set(key, document, s.path(), s.value());
      } else if (change instanceof ValueUpdate.RemoveField r) {
        remove(document, r.path());
      } else {
        add(key, document, (ValueUpdate.AddToField) change);
      }
      current = null;
    }
    return document != null && current == null ? JsonDocuments.encode(document) : current;
  }

  private static void set(byte[] key, JsonObject document, List<String> path, Object value) {
    Object parent = parentFor(key, document, path, true);
    String last = path.get(path.size() - 1);
    if (parent instanceof JsonObject o) {
      o.put(last, value);
      return;
    }
    JsonArray array = (JsonArray) parent;
    int index = JsonDocuments.arrayIndex(last);
    if (index < 0 || index >= array.size()) {
      throw refused(key, path, "there is no element " + last + " in the array " + joined(path, path.size() - 1));
    }
    array.set(index, value);
  }

  private static void remove(JsonObject document, List<String> path) {
    Object parent = JsonDocuments.lookup(document, path.subList(0, path.size() - 1));
    String last = path.get(path.size() - 1);
    if (parent instanceof JsonObject o) {
      o.remove(last);
    } else if (parent instanceof JsonArray a) {
      int index = JsonDocuments.arrayIndex(last);
      if (index >= 0 && index < a.size()) {
        a.remove(index);
      }
    }
  }

  private static void add(byte[] key, JsonObject document, ValueUpdate.AddToField change) {
    List<String> path = change.path();
    Object current = JsonDocuments.lookup(document, path);
    Number base;
    if (current == JsonDocuments.MISSING) {
      base = 0L;
    } else if (current instanceof Number n) {
      base = n;
    } else {
      throw refused(key, path, "the field holds " + kind(current) + ", not a number");
    }
    set(key, document, path, JsonDocuments.add(base, change.amount()));
  }

  /** The object or array holding the last segment of {@code path}, creating missing objects on the way. */
  private static Object parentFor(byte[] key, JsonObject document, List<String> path, boolean create) {
    Object node = document;
    for (int i = 0; i < path.size() - 1; i++) {
      String segment = path.get(i);
      Object next = JsonDocuments.child(node, segment);
      if (next == JsonDocuments.MISSING && create && node instanceof JsonObject o) {
        next = new JsonObject();
        o.put(segment, next);
      }
      if (next == JsonDocuments.MISSING) {
        throw refused(key, path, joined(path, i + 1) + " does not exist");
      }
      if (!(next instanceof JsonObject) && !(next instanceof JsonArray)) {
        throw refused(key, path, joined(path, i + 1) + " holds " + kind(next) + ", not an object");
      }
      if (node instanceof JsonObject o && o.getValue(segment) != next) {
        o.put(segment, next);
      } else if (node instanceof JsonArray a) {
        a.set(JsonDocuments.arrayIndex(segment), next);
      }
      node = next;
    }
    return node;
  }

  private static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof Number) {
      return "a number";
    }
    return v instanceof JsonArray ? "an array" : "an object";
  }

  private static String joined(List<String> path, int segments) {
    return String.join(".", path.subList(0, segments));
  }

  private static CairnException refused(byte[] key, List<String> path, String why) {
    return new CairnException(ErrorCode.FAILED_PRECONDITION, "update: cannot change " + String.join(".", path)
        + " in the value of " + new String(key, StandardCharsets.UTF_8) + ": " + why + "; nothing was updated");
  }
}
