package io.cairn.bus;

/**
 * One change, as watchers see it. For a delete, {@code kv} holds the key and the deleting revision as its
 * mod_revision. {@code prev} is the pair before the change, or null when there was none.
 */
public record Event(Type type, KeyValue kv, KeyValue prev) {

  public enum Type { PUT, DELETE }

  public long revision() {
    return kv.modRevision();
  }
}
