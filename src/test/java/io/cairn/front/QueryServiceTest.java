package io.cairn.front;

import io.cairn.TestServer;
import io.cairn.TestServer.Reply;
import io.cairn.proto.v1.KeyValue;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.RangeQuery;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static io.cairn.Queries.bytes;
import static io.cairn.Queries.delete;
import static io.cairn.Queries.deleteRange;
import static io.cairn.Queries.get;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/** ExecuteQuery over real gRPC against the real verticles: each query kind and the MVCC revisions. */
class QueryServiceTest {

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static QueryResponse query(io.cairn.proto.v1.Query q) throws Exception {
    return server.call(QueryServiceGrpcClient.ExecuteQuery, request(q)).ok();
  }

  @Test
  void setThenGetReturnsTheValueWithItsRevisions() throws Exception {
    QueryResponse written = query(set("users", "alice", "1"));
    long revision = written.getHeader().getRevision();
    assertThat(written.getResult().getSet().getCreated()).isTrue();
    assertThat(written.getResult().getSet().getKv().getModRevision()).isEqualTo(revision);

    QueryResponse read = query(get("users", "alice"));
    KeyValue kv = read.getResult().getGet().getKv();
    assertThat(read.getResult().getGet().getFound()).isTrue();
    assertThat(kv.getCollection()).isEqualTo("users");
    assertThat(kv.getKey().toStringUtf8()).isEqualTo("alice");
    assertThat(kv.getValue().toStringUtf8()).isEqualTo("1");
    assertThat(kv.getCreateRevision()).isEqualTo(revision);
    assertThat(kv.getModRevision()).isEqualTo(revision);
    assertThat(kv.getVersion()).isEqualTo(1);
    assertThat(read.getHeader().getRevision()).isGreaterThanOrEqualTo(revision);
  }

  @Test
  void overwritingKeepsCreateRevisionAndCountsVersions() throws Exception {
    long created = query(set("accounts", "bob", "a")).getHeader().getRevision();
    QueryResponse second = query(set("accounts", "bob", "b"));
    assertThat(second.getHeader().getRevision()).isEqualTo(created + 1);
    assertThat(second.getResult().getSet().getCreated()).isFalse();

    KeyValue kv = query(get("accounts", "bob")).getResult().getGet().getKv();
    assertThat(kv.getValue().toStringUtf8()).isEqualTo("b");
    assertThat(kv.getCreateRevision()).isEqualTo(created);
    assertThat(kv.getModRevision()).isEqualTo(created + 1);
    assertThat(kv.getVersion()).isEqualTo(2);
  }

  @Test
  void getOfAMissingKeyIsNotFoundInTheResultNotAnError() throws Exception {
    QueryResponse read = query(get("users", "nobody"));
    assertThat(read.getResult().getGet().getFound()).isFalse();
    assertThat(read.getResult().getGet().hasKv()).isFalse();
  }

  @Test
  void deleteReportsHowManyKeysItRemovedAndLeavesARevision() throws Exception {
    long written = query(set("trash", "x", "1")).getHeader().getRevision();
    QueryResponse deleted = query(delete("trash", "x"));
    assertThat(deleted.getResult().getDelete().getDeleted()).isEqualTo(1);
    assertThat(deleted.getHeader().getRevision()).isEqualTo(written + 1);
    assertThat(query(get("trash", "x")).getResult().getGet().getFound()).isFalse();

    QueryResponse again = query(delete("trash", "x"));
    assertThat(again.getResult().getDelete().getDeleted()).isZero();
    assertThat(again.getHeader().getRevision()).as("deleting nothing creates no revision")
        .isEqualTo(written + 1);

    long recreated = query(set("trash", "x", "2")).getHeader().getRevision();
    KeyValue kv = query(get("trash", "x")).getResult().getGet().getKv();
    assertThat(kv.getCreateRevision()).as("a re-created key starts a new life").isEqualTo(recreated);
    assertThat(kv.getVersion()).isEqualTo(1);
  }

  @Test
  void rangeReturnsKeysInOrderWithinTheCollectionOnly() throws Exception {
    for (String k : List.of("c", "a", "b", "d")) {
      query(set("letters", k, k.toUpperCase()));
    }
    query(set("letters2", "a", "other collection"));
    query(set("letter", "z", "prefix of the name, other collection"));

    List<KeyValue> all = query(range("letters", "", "", 0)).getResult().getRange().getKvsList();
    assertThat(all).extracting(kv -> kv.getKey().toStringUtf8()).containsExactly("a", "b", "c", "d");
    assertThat(all).extracting(kv -> kv.getValue().toStringUtf8()).containsExactly("A", "B", "C", "D");

    List<KeyValue> middle = query(range("letters", "b", "d", 0)).getResult().getRange().getKvsList();
    assertThat(middle).extracting(kv -> kv.getKey().toStringUtf8()).containsExactly("b", "c");
  }

  @Test
  void rangeLimitSetsMoreAndKeysOnlyOmitsValues() throws Exception {
    IntStream.range(0, 5).forEach(i -> {
      try {
        query(set("limited", "k" + i, "v" + i));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    QueryResponse two = query(range("limited", "", "", 2));
    assertThat(two.getResult().getRange().getKvsCount()).isEqualTo(2);
    assertThat(two.getResult().getRange().getMore()).isTrue();
    QueryResponse five = query(range("limited", "", "", 5));
    assertThat(five.getResult().getRange().getMore()).isFalse();

    io.cairn.proto.v1.Query keysOnly = io.cairn.proto.v1.Query.newBuilder().setRange(RangeQuery.newBuilder()
        .setCollection("limited").setKeysOnly(true)).build();
    List<KeyValue> kvs = query(keysOnly).getResult().getRange().getKvsList();
    assertThat(kvs).hasSize(5).allSatisfy(kv -> {
      assertThat(kv.getValue().isEmpty()).isTrue();
      assertThat(kv.getModRevision()).isPositive();
    });
  }

  @Test
  void deleteWithAnEndRemovesTheWholeRangeInOneRevision() throws Exception {
    for (String k : List.of("a", "b", "c", "d")) {
      query(set("sweep", k, "1"));
    }
    QueryResponse swept = query(deleteRange("sweep", "b", ""));
    assertThat(swept.getResult().getDelete().getDeleted()).isEqualTo(3);
    List<KeyValue> left = query(range("sweep", "", "", 0)).getResult().getRange().getKvsList();
    assertThat(left).extracting(kv -> kv.getKey().toStringUtf8()).containsExactly("a");
  }

  @Test
  void requestIdIsEchoedAndHeaderCarriesTheMemberIdentity() throws Exception {
    QueryRequest request = QueryRequest.newBuilder().setQuery(get("users", "alice")).setRequestId("req-42").build();
    QueryResponse response = server.call(QueryServiceGrpcClient.ExecuteQuery, request).ok();
    assertThat(response.getRequestId()).isEqualTo("req-42");
    assertThat(response.getHeader().getClusterId()).isNotZero();
    assertThat(response.getHeader().getMemberId()).isNotZero();
  }

  @Test
  void binaryKeysAndValuesRoundTrip() throws Exception {
    com.google.protobuf.ByteString key = com.google.protobuf.ByteString.copyFrom(new byte[] {0, (byte) 0xff, '/', 7});
    com.google.protobuf.ByteString value = com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0x80, 0});
    query(io.cairn.proto.v1.Query.newBuilder().setSet(io.cairn.proto.v1.SetQuery.newBuilder()
        .setCollection("bin").setKey(key).setValue(value)).build());
    KeyValue kv = query(io.cairn.proto.v1.Query.newBuilder().setGet(io.cairn.proto.v1.GetQuery.newBuilder()
        .setCollection("bin").setKey(key)).build()).getResult().getGet().getKv();
    assertThat(kv.getKey()).isEqualTo(key);
    assertThat(kv.getValue()).isEqualTo(value);
    assertThat(bytes("x")).isNotEqualTo(key);
  }

  @Test
  void unknownMethodsAreUnimplemented() throws Exception {
    io.vertx.grpc.common.ServiceMethod<QueryResponse, QueryRequest> unknown = io.vertx.grpc.common.ServiceMethod.client(
        io.vertx.grpc.common.ServiceName.create("cairn.v1", "QueryService"), "NoSuchMethod",
        io.vertx.grpc.common.GrpcMessageEncoder.encoder(),
        io.vertx.grpc.common.GrpcMessageDecoder.decoder(QueryResponse.newBuilder()));
    Reply<QueryResponse> reply = server.call(unknown, request(get("users", "alice")));
    assertThat(reply.status()).isEqualTo(GrpcStatus.UNIMPLEMENTED);
  }
}
