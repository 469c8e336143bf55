package io.cairn.storage;

import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.ReadBatchReply;
import io.cairn.bus.ReadReply;
import io.cairn.bus.WriteReply;
import io.cairn.config.CairnConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A group commit keeps every request's events, with the values they removed or wrote, until it is answered: it
 * stops taking requests once those it took hold more than {@code storage.max-read-bytes}. Twenty-four concurrent
 * deletes of 27 MB each, every one within the bound, ran a 512 MiB heap out in one group and ended the server.
 */
class GroupHeldBytesTest {

  private static final int BOUND = 64 * 1024;
  private static final int VALUE = 20_000;

  @TempDir
  Path dataDir;
  private MvccStore store;

  @BeforeEach
  void open() {
    store = MvccStore.open(new CairnConfig.Storage(dataDir, 1, false, 1024, 128, 8L << 20, Long.MAX_VALUE, 0,
        BOUND));
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void aGroupEndsBeforeARequestOnceItsEventsHoldMoreThanTheBound() throws Exception {
    List<List<KvOp>> puts = new ArrayList<>();
    for (int prefix = 0; prefix < 4; prefix++) {
      for (int key = 0; key < 2; key++) {
        puts.add(List.of(new KvOp.Put(bytes("p" + prefix + "/" + key), new byte[VALUE], 0, false, false, false)));
      }
    }
    // each put's event holds one value: the group of eight 20 KB puts ends after four
    assertThat(store.apply(puts).outcomes()).hasSize(4);
    assertThat(store.apply(puts.subList(4, 8)).outcomes()).hasSize(4);
    long before = store.revision();

    List<List<KvOp>> deletes = new ArrayList<>();
    for (int prefix = 0; prefix < 4; prefix++) {
      deletes.add(List.of(new KvOp.Delete(bytes("p" + prefix + "/"), bytes("p" + prefix + "0"), false)));
    }
    // each delete holds 40 KB of removed values: the group takes two, 80 KB, and ends before the third
    MvccStore.Applied first = store.apply(deletes);
    assertThat(first.outcomes()).hasSize(2);
    assertThat(first.events()).hasSize(4);
    assertThat(store.revision()).isEqualTo(before + 2);
    MvccStore.Applied rest = store.apply(deletes.subList(2, 4));
    assertThat(rest.outcomes()).hasSize(2);
    for (Object outcome : rest.outcomes()) {
      assertThat(((KvResult.Deleted) ((WriteReply) outcome).results().get(0)).count()).isEqualTo(2);
    }
    assertThat(store.revision()).isEqualTo(before + 4);
  }

  /**
   * A batch of reads answers them together: it stops running them once the answers it holds pass the bound, and
   * marks the rest to be sent again. Up to 256 reads, each within the bound, held every answer until the last.
   */
  @Test
  void aReadBatchRunsNoMoreReadsOnceItsAnswersHoldMoreThanTheBound() throws Exception {
    List<List<KvOp>> puts = new ArrayList<>();
    List<List<KvOp>> gets = new ArrayList<>();
    for (int key = 0; key < 5; key++) {
      puts.add(List.of(new KvOp.Put(bytes("r/" + key), new byte[VALUE], 0, false, false, false)));
      gets.add(List.of(new KvOp.Get(bytes("r/" + key))));
    }
    store.apply(puts.subList(0, 3));
    store.apply(puts.subList(3, 5));
    // 20 KB answers against a 64 KB bound: four run (the fourth starts at 60 KB), the fifth is left to send again
    List<Object> outcomes = store.readBatch(gets);
    assertThat(outcomes).hasSize(5);
    for (int i = 0; i < 4; i++) {
      assertThat(((KvResult.Got) ((ReadReply) outcomes.get(i)).results().get(0)).kv().value()).hasSize(VALUE);
    }
    assertThat(outcomes.get(4)).isSameAs(ReadBatchReply.RUN_AGAIN);
    assertThat(store.readBatch(gets.subList(4, 5)).get(0)).isInstanceOf(ReadReply.class);
  }

  @Test
  void aRequestAloneAboveTheBoundIsStillApplied() throws Exception {
    MvccStore.Applied applied = store.apply(List.of(
        List.of(new KvOp.Put(bytes("big"), new byte[2 * BOUND], 0, false, false, false)),
        List.of(new KvOp.Put(bytes("next"), new byte[10], 0, false, false, false))));
    assertThat(applied.outcomes()).hasSize(1).allMatch(o -> o instanceof WriteReply);
  }

  /**
   * A lease revoke may not be refused half-way, so past the bound its events are dropped instead (and the values no
   * longer copied out for them): watchers read its revision from history, where every delete and previous value is.
   */
  @Test
  void aRevokeWhoseEventsWouldHoldMoreThanTheBoundDropsThemAndHistoryHasThem() throws Exception {
    store.apply(List.of(List.of(new KvOp.LeaseGrant(7, 60))));
    List<List<KvOp>> puts = new ArrayList<>();
    for (int key = 0; key < 6; key++) {
      puts.add(List.of(new KvOp.Put(bytes("leased/" + key), new byte[VALUE], 7, false, false, false)));
    }
    for (List<KvOp> put : puts) {
      store.apply(List.of(put));
    }
    long before = store.revision();

    MvccStore.Applied revoked = store.apply(List.of(List.of(new KvOp.LeaseRevoke(7))));
    assertThat(((KvResult.LeaseRevoked) ((WriteReply) revoked.outcomes().get(0)).results().get(0)).deletedKeys())
        .isEqualTo(6);
    assertThat(revoked.eventsComplete()).isFalse();
    assertThat(revoked.events()).isEmpty();
    assertThat(store.revision()).isEqualTo(before + 1);

    KvResult.Events history = (KvResult.Events) store.read(List.of(new KvOp.History(before + 1, bytes("leased/"),
        bytes("leased0"), 100, 1 << 20, true))).results().get(0);
    assertThat(history.events()).hasSize(6).allSatisfy(e -> {
      assertThat(e.type()).isEqualTo(io.cairn.bus.Event.Type.DELETE);
      assertThat(e.prev().value()).hasSize(VALUE);
    });
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
