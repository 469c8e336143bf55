package io.cairn.front.query;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Value;
import io.cairn.TestServer;
import io.cairn.TestServer.Reply;
import io.cairn.proto.v1.AddToField;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.FieldPredicate;
import io.cairn.proto.v1.FieldPredicate.Operator;
import io.cairn.proto.v1.FilterQuery;
import io.cairn.proto.v1.FilterResult;
import io.cairn.proto.v1.KeyValue;
import io.cairn.proto.v1.Predicate;
import io.cairn.proto.v1.Predicates;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.SetField;
import io.cairn.proto.v1.UpdateOperation;
import io.cairn.proto.v1.UpdateQuery;
import io.cairn.proto.v1.UpdateResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static io.cairn.Queries.batch;
import static io.cairn.Queries.bytes;
import static io.cairn.Queries.delete;
import static io.cairn.Queries.get;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Filter and update on JSON documents over real gRPC: every operator, combinations, non-JSON values, atomicity. */
class FilterUpdateTest {

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    for (Query q : List.of(
        set("people", "alice", "{\"name\":\"alice\",\"age\":30,\"address\":{\"city\":\"Paris\"},\"tags\":[\"a\",\"b\"]}"),
        set("people", "bob", "{\"name\":\"bob\",\"age\":25,\"address\":{\"city\":\"Berlin\"}}"),
        set("people", "carol", "{\"name\":\"carol\",\"age\":41.5,\"address\":{\"city\":\"Paris\"},\"vip\":null}"),
        set("people", "dave", "not json {\"age\":1}"),
        set("people", "erin", "[1, 2, 3]"),
        set("people", "frank", "42"),
        set("people", "gina", "{\"broken\": "))) {
      query(q);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static QueryResponse query(Query q) throws Exception {
    return server.call(QueryServiceGrpcClient.ExecuteQuery, request(q)).ok();
  }

  static Value num(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static Predicate field(String path, Operator op, Value... values) {
    FieldPredicate.Builder f = FieldPredicate.newBuilder().setPath(path).setOp(op);
    if (op == Operator.OPERATOR_IN) {
      f.addAllValues(List.of(values));
    } else if (values.length > 0) {
      f.setValue(values[0]);
    }
    return Predicate.newBuilder().setField(f).build();
  }

  static Predicate and(Predicate... ps) {
    return Predicate.newBuilder().setAnd(Predicates.newBuilder().addAllPredicates(List.of(ps))).build();
  }

  static Predicate or(Predicate... ps) {
    return Predicate.newBuilder().setOr(Predicates.newBuilder().addAllPredicates(List.of(ps))).build();
  }

  static Predicate not(Predicate p) {
    return Predicate.newBuilder().setNot(p).build();
  }

  static Query filter(String collection, Predicate where) {
    return Query.newBuilder().setFilter(FilterQuery.newBuilder().setCollection(collection).setWhere(where)).build();
  }

  private static List<String> keys(Predicate where) throws Exception {
    return keysOf(query(filter("people", where)).getResult().getFilter());
  }

  private static List<String> keysOf(FilterResult result) {
    return result.getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList();
  }

  @Test
  void eachFieldOperatorSelectsTheMatchingDocuments() throws Exception {
    assertThat(keys(field("address.city", Operator.OPERATOR_EQ, str("Paris")))).containsExactly("alice", "carol");
    assertThat(keys(field("address.city", Operator.OPERATOR_NE, str("Paris")))).containsExactly("bob");
    assertThat(keys(field("age", Operator.OPERATOR_EQ, num(30.0)))).containsExactly("alice");
    assertThat(keys(field("age", Operator.OPERATOR_LT, num(30)))).containsExactly("bob");
    assertThat(keys(field("age", Operator.OPERATOR_LE, num(30)))).containsExactly("alice", "bob");
    assertThat(keys(field("age", Operator.OPERATOR_GT, num(30)))).containsExactly("carol");
    assertThat(keys(field("age", Operator.OPERATOR_GE, num(30)))).containsExactly("alice", "carol");
    assertThat(keys(field("name", Operator.OPERATOR_GT, str("b")))).containsExactly("bob", "carol");
    assertThat(keys(field("vip", Operator.OPERATOR_EXISTS))).containsExactly("carol");
    assertThat(keys(field("vip", Operator.OPERATOR_EQ, Value.newBuilder().setNullValue(NullValue.NULL_VALUE)
        .build()))).containsExactly("carol");
    assertThat(keys(field("name", Operator.OPERATOR_IN, str("bob"), str("alice"), str("zed"))))
        .containsExactly("alice", "bob");
    assertThat(keys(field("tags.1", Operator.OPERATOR_EQ, str("b")))).containsExactly("alice");
    assertThat(keys(field("tags", Operator.OPERATOR_EQ, Value.newBuilder().setListValue(ListValue.newBuilder()
        .addValues(str("a")).addValues(str("b"))).build()))).containsExactly("alice");
    assertThat(keys(field("0", Operator.OPERATOR_EQ, num(1)))).as("a JSON array document, by index")
        .containsExactly("erin");
    assertThat(keys(field("age", Operator.OPERATOR_LT, str("x")))).as("numbers and strings do not order").isEmpty();
  }

  @Test
  void combinationsFollowTheirLogicAndNonJsonValuesNeverMatchFieldPredicates() throws Exception {
    assertThat(keys(and(field("address.city", Operator.OPERATOR_EQ, str("Paris")),
        field("age", Operator.OPERATOR_GT, num(35))))).containsExactly("carol");
    assertThat(keys(or(field("age", Operator.OPERATOR_LT, num(26)), field("vip", Operator.OPERATOR_EXISTS))))
        .containsExactly("bob", "carol");
    assertThat(keys(not(field("address.city", Operator.OPERATOR_EQ, str("Paris")))))
        .as("documents without the field match the negation; non-JSON values (dave, frank, gina) never do")
        .containsExactly("bob", "erin");
    assertThat(keys(not(field("vip", Operator.OPERATOR_EXISTS)))).containsExactly("alice", "bob", "erin");
    assertThat(keys(or(Predicate.newBuilder().setKeyPrefix(bytes("da")).build(),
        field("age", Operator.OPERATOR_EQ, num(25))))).as("a key predicate still selects a non-JSON value")
        .containsExactly("bob", "dave");
    assertThat(keys(Predicate.newBuilder().setValuePrefix(bytes("not json")).build())).containsExactly("dave");
    assertThat(keys(Predicate.newBuilder().setValueEquals(bytes("42")).build())).containsExactly("frank");
    assertThat(keys(and())).as("an empty and holds").hasSize(7);
    assertThat(keys(or())).as("an empty or never holds").isEmpty();
  }

  @Test
  void limitOffsetAndContinuationPageThroughOneRevision() throws Exception {
    for (int i = 0; i < 10; i++) {
      query(set("pages", "k" + i, "{\"i\":" + i + "}"));
    }
    Predicate even = field("i", Operator.OPERATOR_IN, num(0), num(2), num(4), num(6), num(8));
    FilterQuery.Builder q = FilterQuery.newBuilder().setCollection("pages").setWhere(even).setLimit(2);
    FilterResult first = query(Query.newBuilder().setFilter(q).build()).getResult().getFilter();
    assertThat(keysOf(first)).containsExactly("k0", "k2");
    assertThat(first.getMore()).isTrue();

    query(delete("pages", "k4"));
    query(set("pages", "k5", "{\"i\":6}"));
    FilterResult second = query(Query.newBuilder().setFilter(q.clone()
        .setContinuationToken(first.getContinuationToken())).build()).getResult().getFilter();
    assertThat(keysOf(second)).as("the next page reads the revision of the first").containsExactly("k4", "k6");
    FilterResult third = query(Query.newBuilder().setFilter(q.clone()
        .setContinuationToken(second.getContinuationToken())).build()).getResult().getFilter();
    assertThat(keysOf(third)).containsExactly("k8");
    assertThat(third.getMore()).isFalse();
    assertThat(third.getContinuationToken()).isEmpty();

    FilterResult skipped = query(Query.newBuilder().setFilter(q.clone().setOffset(2)).build()).getResult()
        .getFilter();
    assertThat(keysOf(skipped)).as("a fresh filter sees the later writes; offset skips matches")
        .containsExactly("k5", "k6");
  }

  @Test
  void malformedPredicatesAreRefusedNamingThePart() throws Exception {
    Reply<QueryResponse> badPath = server.call(QueryServiceGrpcClient.ExecuteQuery, request(filter("people",
        and(field("age", Operator.OPERATOR_GT, num(1)), field("address..city", Operator.OPERATOR_EQ, str("x"))))));
    assertThat(badPath.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(badPath.message()).startsWith("query.filter.where.and.predicates[1].field.path: \"address..city\" "
        + "has an empty name at segment 2");

    Reply<QueryResponse> noOp = server.call(QueryServiceGrpcClient.ExecuteQuery, request(filter("people",
        Predicate.newBuilder().setField(FieldPredicate.newBuilder().setPath("age")).build())));
    assertThat(noOp.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(noOp.message()).startsWith("query.filter.where.field.op: missing or unknown");

    Reply<QueryResponse> noValue = server.call(QueryServiceGrpcClient.ExecuteQuery, request(filter("people",
        not(field("age", Operator.OPERATOR_LT)))));
    assertThat(noValue.message()).startsWith("query.filter.where.not.field.value: missing");

    Reply<QueryResponse> token = server.call(QueryServiceGrpcClient.ExecuteQuery, request(Query.newBuilder()
        .setFilter(FilterQuery.newBuilder().setCollection("people").setContinuationToken("nonsense")).build()));
    assertThat(token.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(token.message()).startsWith("query.filter.continuation_token: not a continuation token");

    Reply<QueryResponse> emptyUpdate = server.call(QueryServiceGrpcClient.ExecuteQuery, request(Query.newBuilder()
        .setUpdate(UpdateQuery.newBuilder().setCollection("people")).build()));
    assertThat(emptyUpdate.message()).startsWith("query.update.operations: empty");
  }

  static Query update(String collection, Predicate where, UpdateOperation... ops) {
    UpdateQuery.Builder u = UpdateQuery.newBuilder().setCollection(collection).addAllOperations(List.of(ops));
    if (where != null) {
      u.setWhere(where);
    }
    return Query.newBuilder().setUpdate(u).build();
  }

  static UpdateOperation setField(String path, Value value) {
    return UpdateOperation.newBuilder().setSetField(SetField.newBuilder().setPath(path).setValue(value)).build();
  }

  static UpdateOperation add(String path, double amount) {
    return UpdateOperation.newBuilder().setAdd(AddToField.newBuilder().setPath(path).setAmount(amount)).build();
  }

  private static JsonObject doc(String collection, String key) throws Exception {
    return new JsonObject(query(get(collection, key)).getResult().getGet().getKv().getValue().toStringUtf8());
  }

  @Test
  void updateOperationsChangeEveryMatchInOneRevision() throws Exception {
    query(set("stock", "apple", "{\"qty\":3,\"price\":1.5,\"meta\":{\"old\":true}}"));
    query(set("stock", "pear", "{\"qty\":7}"));
    query(set("stock", "blob", "\u0000\u0001binary"));
    query(set("stock", "plum", "{\"qty\":1}"));

    QueryResponse changed = query(update("stock", field("qty", Operator.OPERATOR_GE, num(3)),
        add("qty", 2), add("price", 0.25), setField("origin.country", str("FR")),
        UpdateOperation.newBuilder().setRemoveField("meta.old").build()));
    UpdateResult result = changed.getResult().getUpdate();
    assertThat(result.getUpdated()).isEqualTo(2);
    long revision = changed.getHeader().getRevision();
    JsonObject apple = doc("stock", "apple");
    assertThat(apple.getLong("qty")).isEqualTo(5);
    assertThat(apple.getDouble("price")).isEqualTo(1.75);
    assertThat(apple.getJsonObject("origin").getString("country")).isEqualTo("FR");
    assertThat(apple.getJsonObject("meta").containsKey("old")).isFalse();
    assertThat(doc("stock", "pear").getLong("qty")).isEqualTo(9);
    assertThat(doc("stock", "pear").getDouble("price")).as("adding to a missing field starts from 0").isEqualTo(0.25);
    assertThat(doc("stock", "plum").getLong("qty")).as("not selected").isEqualTo(1);
    for (String key : List.of("apple", "pear")) {
      KeyValue kv = query(get("stock", key)).getResult().getGet().getKv();
      assertThat(kv.getModRevision()).as(key + " changed in the update's one revision").isEqualTo(revision);
      assertThat(kv.getVersion()).isEqualTo(2);
    }

    UpdateResult everything = query(update("stock", null, setField("seen", Value.newBuilder().setBoolValue(true)
        .build()))).getResult().getUpdate();
    assertThat(everything.getUpdated()).isEqualTo(3);
    assertThat(everything.getSkipped()).as("the binary value is left alone").isEqualTo(1);
    assertThat(query(get("stock", "blob")).getResult().getGet().getKv().getValue().toStringUtf8())
        .isEqualTo("\u0000\u0001binary");

    UpdateResult replaced = query(update("stock", Predicate.newBuilder().setKeyPrefix(bytes("bl")).build(),
        UpdateOperation.newBuilder().setReplaceValue(bytes("{\"qty\":0}")).build())).getResult().getUpdate();
    assertThat(replaced.getUpdated()).isEqualTo(1);
    assertThat(doc("stock", "blob").getLong("qty")).isZero();
  }

  @Test
  void anUpdateThatCannotApplyChangesNothing() throws Exception {
    query(set("conflict", "a", "{\"n\":1}"));
    query(set("conflict", "b", "{\"n\":\"one\"}"));
    long before = query(get("conflict", "a")).getResult().getGet().getKv().getModRevision();
    Reply<QueryResponse> refused = server.call(QueryServiceGrpcClient.ExecuteQuery,
        request(update("conflict", null, add("n", 1))));
    assertThat(refused.status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(refused.message()).isEqualTo("update: cannot change n in the value of conflict/b: the field holds a "
        + "string, not a number; nothing was updated");
    KeyValue a = query(get("conflict", "a")).getResult().getGet().getKv();
    assertThat(a.getModRevision()).isEqualTo(before);
    assertThat(a.getValue().toStringUtf8()).isEqualTo("{\"n\":1}");
  }

  @Test
  void updateLimitRefusesTheWholeUpdate() throws Exception {
    try (TestServer small = TestServer.start("limits.max-update-keys=3")) {
      for (int i = 0; i < 4; i++) {
        small.call(QueryServiceGrpcClient.ExecuteQuery, request(set("many", "k" + i, "{\"n\":0}"))).ok();
      }
      Reply<QueryResponse> refused = small.call(QueryServiceGrpcClient.ExecuteQuery,
          request(update("many", null, add("n", 1))));
      assertThat(refused.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(refused.message()).startsWith("update: more than 3 values match (limits.max-update-keys)");
      Reply<QueryResponse> k0 = small.call(QueryServiceGrpcClient.ExecuteQuery, request(get("many", "k0")));
      assertThat(k0.ok().getResult().getGet().getKv().getValue().toStringUtf8()).isEqualTo("{\"n\":0}");
    }
  }

  @Test
  void anUpdateWhoseChangedValuesPassTheReadBoundChangesNothing() throws Exception {
    try (TestServer small = TestServer.start("storage.max-read-bytes=100000")) {
      String padding = "x".repeat(30_000);
      for (int i = 0; i < 4; i++) {
        small.call(QueryServiceGrpcClient.ExecuteQuery,
            request(set("wide", "k" + i, "{\"n\":0,\"pad\":\"" + padding + "\"}"))).ok();
      }
      Reply<QueryResponse> refused = small.call(QueryServiceGrpcClient.ExecuteQuery,
          request(update("wide", null, add("n", 1))));
      assertThat(refused.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(refused.message()).startsWith("update: the changed values hold more than 100000 bytes")
          .contains("storage.max-read-bytes", "nothing was updated");
      Reply<QueryResponse> k0 = small.call(QueryServiceGrpcClient.ExecuteQuery, request(get("wide", "k0")));
      assertThat(k0.ok().getResult().getGet().getKv().getValue().toStringUtf8()).startsWith("{\"n\":0,");
    }
  }

  @Test
  void concurrentReadersSeeAllOrNoneOfAnUpdate() throws Exception {
    int docs = 2000;
    List<BatchRequest> writes = IntStream.range(0, docs / 100).mapToObj(b -> batch(IntStream.range(0, 100)
        .mapToObj(i -> set("atomic", String.format("d%05d", b * 100 + i), "{\"n\":0}")).toArray(Query[]::new)))
        .toList();
    assertThat(server.callAll(QueryServiceGrpcClient.ExecuteBatch, writes))
        .allMatch(r -> r.status() == GrpcStatus.OK);

    List<Future<Reply<QueryResponse>>> reads = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      reads.add(server.callAsync(QueryServiceGrpcClient.ExecuteQuery, request(range("atomic", "", "", docs)), 0));
      if (i == 5) {
        reads.add(server.callAsync(QueryServiceGrpcClient.ExecuteQuery,
            request(update("atomic", null, add("n", 1))), 0));
      }
    }
    await(Future.join(reads));
    Set<String> seen = new java.util.HashSet<>();
    for (Future<Reply<QueryResponse>> read : reads) {
      QueryResponse response = read.result().ok();
      if (!response.getResult().hasRange()) {
        assertThat(response.getResult().getUpdate().getUpdated()).isEqualTo(docs);
        continue;
      }
      List<KeyValue> kvs = response.getResult().getRange().getKvsList();
      assertThat(kvs).hasSize(docs);
      Set<String> values = kvs.stream().map(kv -> kv.getValue().toStringUtf8()).collect(Collectors.toSet());
      assertThat(values).as("one read sees one state of the whole collection").hasSize(1);
      seen.addAll(values);
    }
    assertThat(seen).isSubsetOf("{\"n\":0}", "{\"n\":1}");
    assertThat(query(get("atomic", "d01999")).getResult().getGet().getKv().getValue().toStringUtf8())
        .isEqualTo("{\"n\":1}");
  }
}
