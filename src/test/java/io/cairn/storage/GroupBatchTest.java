package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.config.CairnConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every group commit writes exactly its own requests, though the batch groups are built in is reused: nothing of
 * a group that was large (its batch made afresh), or that had a request rolled back, reaches the next one.
 */
class GroupBatchTest {

  @TempDir
  Path dataDir;
  private MvccStore store;

  @BeforeEach
  void open() {
    store = MvccStore.open(new CairnConfig.Storage(dataDir, 1, false, 1024, 128, 8L << 20, Long.MAX_VALUE, 0, 0));
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void aGroupAfterALargeOneHoldsOnlyItsOwnWrites() throws Exception {
    long start = store.revision();
    byte[] large = new byte[1 << 20];
    Arrays.fill(large, (byte) 'x');
    List<List<KvOp>> big = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      big.add(List.of(new KvOp.Put(bytes("big" + i), large, 0, false, false, false)));
    }
    store.apply(big);
    store.apply(List.of(List.of(put("small", "s"))));
    store.apply(List.of(List.of(put("after", "a"))));

    assertThat(store.revision()).isEqualTo(start + 8);
    assertThat(history(start + 7)).containsExactly("small=s", "after=a");
    assertThat(read("big0").value()).isEqualTo(large);
    assertThat(read("small").modRevision()).isEqualTo(start + 7);
  }

  @Test
  void aGroupAfterOneWithARolledBackRequestHoldsOnlyItsOwnWrites() throws Exception {
    long start = store.revision();
    MvccStore.Applied refused = store.apply(List.of(
        List.of(put("a", "1")),
        // refused after its put: the lease does not exist, so the whole request is rolled back
        List.of(put("b", "never"), new KvOp.Put(bytes("c"), bytes("v"), 42, false, false, false))));
    assertThat(refused.outcomes().get(1)).isInstanceOf(CairnException.class);
    store.apply(List.of(List.of(put("d", "4"))));

    assertThat(history(start + 1)).containsExactly("a=1", "d=4");
    assertThat(store.revision()).isEqualTo(start + 2);
  }

  private KeyValue read(String key) throws Exception {
    List<KeyValue> kvs = ((KvResult.Ranged) store.read(List.of(KvOp.Range.of(bytes(key), bytes(key + "\0"), 0,
        false))).results().get(0)).kvs();
    assertThat(kvs).hasSize(1);
    return kvs.get(0);
  }

  private List<String> history(long from) throws Exception {
    KvResult.Events events = (KvResult.Events) store.read(List.of(
        new KvOp.History(from, bytes("a"), bytes("z"), 100, 64 << 20, false))).results().get(0);
    return events.events().stream().map(e -> text(e.kv().key()) + "=" + text(e.kv().value())).toList();
  }

  private static KvOp.Put put(String key, String value) {
    return new KvOp.Put(bytes(key), bytes(value), 0, false, false, false);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
