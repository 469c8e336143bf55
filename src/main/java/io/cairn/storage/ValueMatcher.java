package io.cairn.storage;

import io.cairn.bus.ValuePredicate;

import java.util.Arrays;

/**
 * Evaluates a {@link ValuePredicate} on one key and value in three-valued logic: a JSON field predicate on a value
 * that is not a JSON document is unknown, {@code not} of unknown stays unknown, and only a true outcome selects
 * the value. The value is parsed at most once, and only when a field predicate needs it.
 */
final class ValueMatcher {

  private enum Truth { TRUE, FALSE, UNKNOWN }

  private final ValuePredicate predicate;
  private byte[] key;
  private byte[] value;
  private Object document;
  private boolean parsed;

  ValueMatcher(ValuePredicate predicate) {
    this.predicate = predicate;
  }

  /** Whether the pair is selected; a null predicate selects everything. */
  boolean matches(byte[] key, byte[] value) {
    if (predicate == null) {
      return true;
    }
    this.key = key;
    this.value = value;
    this.document = null;
    this.parsed = false;
    return evaluate(predicate) == Truth.TRUE;
  }

  private Truth evaluate(ValuePredicate p) {
    if (p instanceof ValuePredicate.KeyPrefix k) {
      return truth(Encoding.startsWith(key, k.prefix()));
    }
    if (p instanceof ValuePredicate.ValueEquals v) {
      return truth(Arrays.equals(value, v.value()));
    }
    if (p instanceof ValuePredicate.ValuePrefix v) {
      return truth(Encoding.startsWith(value, v.prefix()));
    }
    if (p instanceof ValuePredicate.Field f) {
      return field(f);
    }
    if (p instanceof ValuePredicate.And and) {
      Truth result = Truth.TRUE;
      for (ValuePredicate each : and.all()) {
        Truth t = evaluate(each);
        if (t == Truth.FALSE) {
          return Truth.FALSE;
        }
        if (t == Truth.UNKNOWN) {
          result = Truth.UNKNOWN;
        }
      }
      return result;
    }
    if (p instanceof ValuePredicate.Or or) {
      Truth result = Truth.FALSE;
      for (ValuePredicate each : or.any()) {
        Truth t = evaluate(each);
        if (t == Truth.TRUE) {
          return Truth.TRUE;
        }
        if (t == Truth.UNKNOWN) {
          result = Truth.UNKNOWN;
        }
      }
      return result;
    }
    Truth negated = evaluate(((ValuePredicate.Not) p).negated());
    return switch (negated) {
      case TRUE -> Truth.FALSE;
      case FALSE -> Truth.TRUE;
      case UNKNOWN -> Truth.UNKNOWN;
    };
  }

  private Truth field(ValuePredicate.Field f) {
    if (!parsed) {
      document = JsonDocuments.parse(value);
      parsed = true;
    }
    if (document == null) {
      return Truth.UNKNOWN;
    }
    Object actual = JsonDocuments.lookup(document, f.path());
    if (actual == JsonDocuments.MISSING) {
      return Truth.FALSE;
    }
    Object operand = f.operands().isEmpty() ? null : f.operands().get(0);
    return truth(switch (f.operator()) {
      case EXISTS -> true;
      case EQ -> JsonDocuments.jsonEquals(actual, operand);
      case NE -> !JsonDocuments.jsonEquals(actual, operand);
      case IN -> f.operands().stream().anyMatch(o -> JsonDocuments.jsonEquals(actual, o));
      case LT, LE, GT, GE -> {
        Integer order = JsonDocuments.order(actual, operand);
        yield order != null && switch (f.operator()) {
          case LT -> order < 0;
          case LE -> order <= 0;
          case GT -> order > 0;
          default -> order >= 0;
        };
      }
    });
  }

  private static Truth truth(boolean b) {
    return b ? Truth.TRUE : Truth.FALSE;
  }
}
