package io.cairn.bus;

/** What the storage writer reports about the store. */
public record StorageStatus(boolean open, long revision, long keyCount, long dbSizeBytes) {}
