package io.cairn.bench;

import io.cairn.bus.KvOp;
import io.cairn.config.CairnConfig;
import io.cairn.storage.MvccStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The MVCC store on RocksDB: a point read, a 100-key range, and applying a group of 64 puts (WAL sync off). */
@State(Scope.Benchmark)
public class MvccBenchmark {

  private static final int KEYS = 10_000;

  private Path dir;
  private MvccStore store;
  private byte[][] keys;
  private int next;
  private byte[] value;

  @Setup(Level.Trial)
  public void open() throws Exception {
    dir = Files.createTempDirectory("cairn-jmh");
    store = MvccStore.open(new CairnConfig.Storage(dir, 1, false, 65536, 4096, 64L << 20, Long.MAX_VALUE, 0, 0));
    keys = new byte[KEYS][];
    value = new byte[100];
    List<List<KvOp>> batch = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      keys[i] = String.format("bench/k%06d", i).getBytes(StandardCharsets.US_ASCII);
      batch.add(List.of(KvOp.Put.of(keys[i], value)));
      if (batch.size() == 1000) {
        store.apply(batch);
        batch = new ArrayList<>();
      }
    }
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    store.close();
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private byte[] nextKey() {
    next = (next + 7919) % KEYS;
    return keys[next];
  }

  @Benchmark
  public Object getOneKey() throws Exception {
    return store.read(List.of(new KvOp.Get(nextKey())));
  }

  @Benchmark
  public Object range100Keys() throws Exception {
    byte[] start = nextKey();
    return store.read(List.of(KvOp.Range.of(start, new byte[0], 100, false)));
  }

  @Benchmark
  public Object applyGroupOf64Puts() throws Exception {
    List<List<KvOp>> group = new ArrayList<>(64);
    for (int i = 0; i < 64; i++) {
      group.add(List.of(KvOp.Put.of(nextKey(), value)));
    }
    return store.apply(group);
  }
}
