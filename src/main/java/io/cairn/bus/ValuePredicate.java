package io.cairn.bus;

import java.util.List;

/**
 * A condition on a stored key and value, evaluated by storage. Keys are full keyspace keys. JSON operands and
 * field values are Vert.x JSON values: {@code null}, {@link Boolean}, {@link Number}, {@link String},
 * {@code JsonObject}, {@code JsonArray}.
 */
public sealed interface ValuePredicate {

  record KeyPrefix(byte[] prefix) implements ValuePredicate {}

  record ValueEquals(byte[] value) implements ValuePredicate {}

  record ValuePrefix(byte[] prefix) implements ValuePredicate {}

  enum Operator { EQ, NE, LT, LE, GT, GE, EXISTS, IN }

  /**
   * The JSON field at {@code path} compared with the operand ({@code operands.get(0)}), or with each of them for
   * {@link Operator#IN}; EXISTS uses none. The list may hold nulls (JSON null).
   */
  record Field(List<String> path, Operator operator, List<Object> operands) implements ValuePredicate {}

  record And(List<ValuePredicate> all) implements ValuePredicate {}

  record Or(List<ValuePredicate> any) implements ValuePredicate {}

  record Not(ValuePredicate negated) implements ValuePredicate {}
}
