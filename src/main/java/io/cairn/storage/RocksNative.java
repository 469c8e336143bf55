package io.cairn.storage;

import org.rocksdb.NativeLibraryLoader;
import org.rocksdb.RocksDB;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Loads RocksDB's native library so that no copy of it outlives the process. rocksdbjni copies its 15 MB library
 * out of the jar into the temp directory and deletes it only from a shutdown hook, which a process killed by
 * {@code SIGKILL} or ended by {@code -XX:+ExitOnOutOfMemoryError} never runs: every such end left a copy behind.
 * Here the copy goes to a directory of its own and is deleted as soon as it is loaded, as Netty does with its own
 * native libraries; Linux keeps a loaded library mapped after its file is gone.
 */
final class RocksNative {

  private static boolean loaded;

  private RocksNative() {}

  static synchronized void load() {
    if (loaded) {
      return;
    }
    try {
      Path dir = Files.createTempDirectory("cairn-rocksdbjni");
      try {
        NativeLibraryLoader.getInstance().loadLibrary(dir.toString());
      } finally {
        deleteCopies(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not load RocksDB's native library: " + e.getMessage(), e);
    }
    RocksDB.loadLibrary(); // finds the library loaded, records it and loads the compression libraries it can
    loaded = true;
  }

  private static void deleteCopies(Path dir) throws IOException {
    try (Stream<Path> copies = Files.list(dir)) {
      for (Path copy : copies.toList()) {
        Files.deleteIfExists(copy);
      }
    }
    Files.deleteIfExists(dir);
  }
}
