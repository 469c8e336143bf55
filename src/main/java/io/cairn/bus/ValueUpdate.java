package io.cairn.bus;

import java.util.List;

/** One change an update makes to each value it selects; JSON values as in {@link ValuePredicate}. */
public sealed interface ValueUpdate {

  record Replace(byte[] value) implements ValueUpdate {}

  record SetField(List<String> path, Object value) implements ValueUpdate {}

  record RemoveField(List<String> path) implements ValueUpdate {}

  record AddToField(List<String> path, Number amount) implements ValueUpdate {}
}
