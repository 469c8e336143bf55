package io.cairn.bus;

/** A stored key with its MVCC metadata; {@code value} is empty for keys-only reads and write results. */
public record KeyValue(byte[] key, byte[] value, long createRevision, long modRevision, long version, long lease) {}
