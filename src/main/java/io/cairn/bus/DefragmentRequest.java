package io.cairn.bus;

/** Asks the writer to compact RocksDB's files; the answer is the {@link StorageStatus} afterwards. */
public record DefragmentRequest() {}
