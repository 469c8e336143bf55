package io.cairn.storage;

import io.cairn.bus.CairnException;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.WriteReply;
import io.cairn.config.CairnConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests committed in one group see each other's history: a read at a revision made earlier in the same group,
 * and history reads after a group in which one request was rolled back, give the answers they would give alone.
 */
class GroupHistoryTest {

  @TempDir
  Path dataDir;
  private MvccStore store;

  @BeforeEach
  void open() throws Exception {
    store = MvccStore.open(new CairnConfig.Storage(dataDir, 1, false, 1024, 128, 8L << 20, Long.MAX_VALUE, 0, 0));
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void aTransactionReadsAtARevisionMadeEarlierInItsGroup() throws Exception {
    long start = store.revision();
    MvccStore.Applied applied = store.apply(List.of(
        List.of(put("k", "first")),
        List.of(put("k", "second")),
        List.of(new KvOp.Txn(List.of(), List.of(rangeAt("k", start + 1), put("other", "x")), List.of()))));

    KvResult.Txn txn = (KvResult.Txn) ((WriteReply) applied.outcomes().get(2)).results().get(0);
    List<KeyValue> seen = ((KvResult.Ranged) txn.results().get(0)).kvs();
    assertThat(seen).extracting(kv -> text(kv.value())).containsExactly("first");
    assertThat(seen.get(0).modRevision()).isEqualTo(start + 1);
  }

  @Test
  void historyAfterAGroupWithARolledBackRequestHoldsOnlyWhatWasCommitted() throws Exception {
    long start = store.revision();
    MvccStore.Applied applied = store.apply(List.of(
        List.of(put("a", "1")),
        // refused after its put: the lease does not exist, so the whole request is rolled back
        List.of(put("b", "never"), new KvOp.Put(bytes("c"), bytes("v"), 42, false, false, false)),
        List.of(put("a", "2"))));
    assertThat(applied.outcomes().get(1)).isInstanceOf(CairnException.class);

    assertThat(read(rangeAt("a", start + 1))).extracting(kv -> text(kv.value())).containsExactly("1");
    assertThat(read(rangeAt("a", start + 2))).extracting(kv -> text(kv.value())).containsExactly("2");
    assertThat(read(KvOp.Range.of(bytes("b"), bytes("b\0"), 0, false))).isEmpty();
    KvResult.Events events = (KvResult.Events) store.read(List.of(
        new KvOp.History(start + 1, bytes("a"), bytes("d"), 100, 1 << 20, false))).results().get(0);
    assertThat(events.events()).extracting(e -> text(e.kv().key()) + "=" + text(e.kv().value()))
        .containsExactly("a=1", "a=2");
  }

  private List<KeyValue> read(KvOp.Range range) throws Exception {
    return ((KvResult.Ranged) store.read(List.of(range)).results().get(0)).kvs();
  }

  private static KvOp.Put put(String key, String value) {
    return new KvOp.Put(bytes(key), bytes(value), 0, false, false, false);
  }

  private static KvOp.Range rangeAt(String key, long revision) {
    return new KvOp.Range(bytes(key), bytes(key + "\0"), 0, false, false, false, revision, KvOp.SortOrder.NONE,
        KvOp.SortTarget.KEY, 0, 0, 0, 0);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
