package io.cairn.front.etcd;

import io.cairn.Queries;
import io.cairn.TestServer;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.cairn.Queries.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** etcd's Java client, unchanged, against Cairn's etcd KV API. */
class JetcdKvTest {

  static TestServer server;
  static Client client;
  static KV kv;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start("limits.max-txn-ops=4");
    client = Client.builder().endpoints("http://127.0.0.1:" + server.grpcPort()).build();
    kv = client.getKVClient();
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.close();
  }

  static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static String str(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  static List<String> keys(GetResponse r) {
    return r.getKvs().stream().map(k -> str(k.getKey())).toList();
  }

  @Test
  void putGetAndRevisions() throws Exception {
    long first = get(kv.put(bs("rv/a"), bs("1"))).getHeader().getRevision();
    var second = get(kv.put(bs("rv/a"), bs("2"), PutOption.builder().withPrevKV().build()));
    assertThat(second.hasPrevKv()).isTrue();
    assertThat(str(second.getPrevKv().getValue())).isEqualTo("1");
    assertThat(second.getHeader().getRevision()).isEqualTo(first + 1);

    KeyValue now = get(kv.get(bs("rv/a"))).getKvs().get(0);
    assertThat(str(now.getValue())).isEqualTo("2");
    assertThat(now.getCreateRevision()).isEqualTo(first);
    assertThat(now.getModRevision()).isEqualTo(first + 1);
    assertThat(now.getVersion()).isEqualTo(2);

    GetResponse old = get(kv.get(bs("rv/a"), GetOption.builder().withRevision(first).build()));
    assertThat(str(old.getKvs().get(0).getValue())).isEqualTo("1");
    assertThat(old.getHeader().getRevision()).isGreaterThanOrEqualTo(first + 1);

    assertThatThrownBy(() -> get(kv.get(bs("rv/a"), GetOption.builder().withRevision(first + 1000).build())))
        .hasRootCauseMessage("OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision");
  }

  @Test
  void rangeOptions() throws Exception {
    for (String k : List.of("ro/a", "ro/b", "ro/c", "ro/d")) {
      get(kv.put(bs(k), bs("v-" + k)));
    }
    get(kv.put(bs("ro/b"), bs("zz")));
    GetOption prefix = GetOption.builder().isPrefix(true).build();
    assertThat(keys(get(kv.get(bs("ro/"), prefix)))).containsExactly("ro/a", "ro/b", "ro/c", "ro/d");

    GetResponse limited = get(kv.get(bs("ro/"), GetOption.builder().isPrefix(true).withLimit(2).build()));
    assertThat(keys(limited)).containsExactly("ro/a", "ro/b");
    assertThat(limited.isMore()).isTrue();
    assertThat(limited.getCount()).isEqualTo(4);

    GetResponse descending = get(kv.get(bs("ro/"), GetOption.builder().isPrefix(true)
        .withSortOrder(GetOption.SortOrder.DESCEND).withSortField(GetOption.SortTarget.KEY).build()));
    assertThat(keys(descending)).containsExactly("ro/d", "ro/c", "ro/b", "ro/a");

    GetResponse byVersion = get(kv.get(bs("ro/"), GetOption.builder().isPrefix(true)
        .withSortOrder(GetOption.SortOrder.DESCEND).withSortField(GetOption.SortTarget.VERSION).withLimit(1)
        .build()));
    assertThat(keys(byVersion)).containsExactly("ro/b");

    GetResponse endKey = get(kv.get(bs("ro/b"), GetOption.builder().withRange(bs("ro/d")).build()));
    assertThat(keys(endKey)).containsExactly("ro/b", "ro/c");

    GetResponse countOnly = get(kv.get(bs("ro/"), GetOption.builder().isPrefix(true).withCountOnly(true).build()));
    assertThat(countOnly.getKvs()).isEmpty();
    assertThat(countOnly.getCount()).isEqualTo(4);

    GetResponse keysOnly = get(kv.get(bs("ro/a"), GetOption.builder().withKeysOnly(true).build()));
    assertThat(keysOnly.getKvs().get(0).getValue().isEmpty()).isTrue();

    long bRevision = get(kv.get(bs("ro/b"))).getKvs().get(0).getModRevision();
    GetResponse modified = get(kv.get(bs("ro/"), GetOption.builder().isPrefix(true)
        .withMinModRevision(bRevision).build()));
    assertThat(keys(modified)).containsExactly("ro/b");

    GetResponse fromKey = get(kv.get(bs("ro/c"), GetOption.builder().withRange(bs("\0")).build()));
    assertThat(keys(fromKey)).startsWith("ro/c", "ro/d");
  }

  @Test
  void deleteWithPrevKvs() throws Exception {
    get(kv.put(bs("dl/a"), bs("1")));
    get(kv.put(bs("dl/b"), bs("2")));
    var deleted = get(kv.delete(bs("dl/"), DeleteOption.builder().isPrefix(true).withPrevKV(true).build()));
    assertThat(deleted.getDeleted()).isEqualTo(2);
    assertThat(deleted.getPrevKvs()).extracting(k -> str(k.getValue())).containsExactly("1", "2");
    assertThat(get(kv.get(bs("dl/"), GetOption.builder().isPrefix(true).build())).getCount()).isZero();
  }

  @Test
  void txnCompareAndSwap() throws Exception {
    get(kv.put(bs("tx/lock"), bs("free")));
    TxnResponse won = get(kv.txn()
        .If(new Cmp(bs("tx/lock"), Cmp.Op.EQUAL, CmpTarget.value(bs("free"))))
        .Then(Op.put(bs("tx/lock"), bs("taken"), PutOption.DEFAULT), Op.get(bs("tx/lock"), GetOption.DEFAULT))
        .Else(Op.get(bs("tx/lock"), GetOption.DEFAULT))
        .commit());
    assertThat(won.isSucceeded()).isTrue();
    assertThat(str(won.getGetResponses().get(0).getKvs().get(0).getValue())).isEqualTo("taken");

    TxnResponse lost = get(kv.txn()
        .If(new Cmp(bs("tx/lock"), Cmp.Op.EQUAL, CmpTarget.value(bs("free"))))
        .Then(Op.put(bs("tx/lock"), bs("again"), PutOption.DEFAULT))
        .Else(Op.get(bs("tx/lock"), GetOption.DEFAULT))
        .commit());
    assertThat(lost.isSucceeded()).isFalse();
    assertThat(str(lost.getGetResponses().get(0).getKvs().get(0).getValue())).isEqualTo("taken");

    TxnResponse absent = get(kv.txn()
        .If(new Cmp(bs("tx/new"), Cmp.Op.EQUAL, CmpTarget.version(0)))
        .Then(Op.put(bs("tx/new"), bs("created"), PutOption.DEFAULT))
        .commit());
    assertThat(absent.isSucceeded()).isTrue();
    assertThat(get(kv.get(bs("tx/new"))).getKvs().get(0).getVersion()).isEqualTo(1);
  }

  /**
   * As on etcd, each answer inside a transaction carries the revision its operation saw: a read before the first
   * change sees the revision before the transaction, one after it the transaction's own.
   */
  @Test
  void txnAnswersCarryTheRevisionEachOperationSaw() throws Exception {
    long before = get(kv.put(bs("tr/a"), bs("1"))).getHeader().getRevision();
    TxnResponse writing = get(kv.txn()
        .Then(Op.get(bs("tr/a"), GetOption.DEFAULT), Op.delete(bs("tr/none"), DeleteOption.DEFAULT),
            Op.put(bs("tr/b"), bs("2"), PutOption.DEFAULT),
            Op.txn(new Cmp[0], new Op[] {Op.get(bs("tr/b"), GetOption.DEFAULT),
                Op.delete(bs("tr/none"), DeleteOption.DEFAULT)}, new Op[0]))
        .commit());
    assertThat(writing.getHeader().getRevision()).isEqualTo(before + 1);
    assertThat(writing.getGetResponses().get(0).getHeader().getRevision()).isEqualTo(before);
    assertThat(writing.getDeleteResponses().get(0).getHeader().getRevision()).isEqualTo(before);
    assertThat(writing.getPutResponses().get(0).getHeader().getRevision()).isEqualTo(before + 1);
    TxnResponse nested = writing.getTxnResponses().get(0);
    assertThat(nested.getHeader().getRevision()).as("a nested transaction's header is empty").isZero();
    assertThat(nested.getGetResponses().get(0).getHeader().getRevision()).isEqualTo(before + 1);
    assertThat(nested.getGetResponses().get(0).getKvs().get(0).getModRevision()).isEqualTo(before + 1);
    assertThat(nested.getDeleteResponses().get(0).getHeader().getRevision()).isEqualTo(before + 1);

    TxnResponse reading = get(kv.txn().Then(Op.get(bs("tr/a"), GetOption.DEFAULT),
        Op.delete(bs("tr/none"), DeleteOption.DEFAULT)).commit());
    assertThat(reading.getHeader().getRevision()).isEqualTo(before + 1);
    assertThat(reading.getGetResponses().get(0).getHeader().getRevision()).isEqualTo(before + 1);
  }

  @Test
  void txnErrorsUseEtcdTexts() throws Exception {
    assertThatThrownBy(() -> get(kv.txn()
        .Then(Op.put(bs("tx/d"), bs("1"), PutOption.DEFAULT), Op.put(bs("tx/d"), bs("2"), PutOption.DEFAULT))
        .commit()))
        .hasRootCauseMessage("INVALID_ARGUMENT: etcdserver: duplicate key given in txn request");
    Op[] five = new Op[5];
    for (int i = 0; i < five.length; i++) {
      five[i] = Op.put(bs("tx/m" + i), bs("v"), PutOption.DEFAULT);
    }
    assertThatThrownBy(() -> get(kv.txn().Then(five).commit()))
        .hasRootCauseMessage("INVALID_ARGUMENT: etcdserver: too many operations in txn request");
  }

  @Test
  void compactionRefusesOldRevisions() throws Exception {
    long r1 = get(kv.put(bs("cp/a"), bs("1"))).getHeader().getRevision();
    long r2 = get(kv.put(bs("cp/a"), bs("2"))).getHeader().getRevision();
    get(kv.put(bs("cp/a"), bs("3")));
    get(kv.compact(r2));
    assertThatThrownBy(() -> get(kv.get(bs("cp/a"), GetOption.builder().withRevision(r1).build())))
        .hasRootCauseMessage("OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted");
    GetResponse atCompaction = get(kv.get(bs("cp/a"), GetOption.builder().withRevision(r2).build()));
    assertThat(str(atCompaction.getKvs().get(0).getValue())).isEqualTo("2");
    assertThatThrownBy(() -> get(kv.compact(r1)))
        .hasRootCauseMessage("OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted");
  }

  @Test
  void nativeAndEtcdShareKeysAndRevisions() throws Exception {
    QueryResponse set = server.call(QueryServiceGrpcClient.ExecuteQuery,
        Queries.request(Queries.set("users", "alice", "{\"age\":30}"))).ok();
    long nativeRevision = set.getHeader().getRevision();
    KeyValue seen = get(kv.get(bs("users/alice"))).getKvs().get(0);
    assertThat(str(seen.getValue())).isEqualTo("{\"age\":30}");
    assertThat(seen.getModRevision()).isEqualTo(nativeRevision);

    long etcdRevision = get(kv.put(bs("users/bob"), bs("b"))).getHeader().getRevision();
    assertThat(etcdRevision).isEqualTo(nativeRevision + 1);
    QueryResponse got = server.call(QueryServiceGrpcClient.ExecuteQuery,
        Queries.request(Queries.get("users", "bob"))).ok();
    assertThat(got.getResult().getGet().getKv().getValue()).isEqualTo(bytes("b"));
    assertThat(got.getResult().getGet().getKv().getModRevision()).isEqualTo(etcdRevision);
  }

  @Test
  void manyConcurrentClientsGetDistinctRevisions() throws Exception {
    List<Client> clients = new ArrayList<>();
    List<CompletableFuture<io.etcd.jetcd.kv.PutResponse>> puts = new ArrayList<>();
    try {
      for (int c = 0; c < 8; c++) {
        Client each = Client.builder().endpoints("http://127.0.0.1:" + server.grpcPort()).build();
        clients.add(each);
        for (int i = 0; i < 50; i++) {
          puts.add(each.getKVClient().put(bs("cc/" + c + "/" + i), bs("v")));
        }
      }
      List<Long> revisions = new ArrayList<>();
      for (var put : puts) {
        revisions.add(get(put).getHeader().getRevision());
      }
      assertThat(revisions).doesNotHaveDuplicates().hasSize(400);
      assertThat(get(kv.get(bs("cc/"), GetOption.builder().isPrefix(true).withCountOnly(true).build())).getCount())
          .isEqualTo(400);
    } finally {
      clients.forEach(Client::close);
    }
  }

}
