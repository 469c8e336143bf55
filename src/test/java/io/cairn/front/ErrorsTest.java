package io.cairn.front;

import com.google.protobuf.ByteString;
import io.cairn.TestServer;
import io.cairn.TestServer.Reply;
import io.cairn.proto.etcd.LeaseGrpcClient;
import io.cairn.proto.etcd.LeaseRevokeRequest;
import io.cairn.proto.v1.GetQuery;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.SetQuery;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.cairn.Queries.bytes;
import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/** Bad input gets INVALID_ARGUMENT with a message naming the field and the limit; the server stays up. */
class ErrorsTest {

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start("limits.max-key-size=16", "limits.max-value-size=1000",
        "limits.max-request-size=2048");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static Reply<QueryResponse> query(Query q) throws Exception {
    return server.call(QueryServiceGrpcClient.ExecuteQuery, request(q));
  }

  private static void assertInvalid(Reply<QueryResponse> reply, String message) {
    assertThat(reply.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(reply.message()).isEqualTo(message);
  }

  @Test
  void collectionNamesAreChecked() throws Exception {
    assertInvalid(query(set("", "k", "v")), "query.set.collection: must not be empty");
    assertInvalid(query(set("no spaces", "k", "v")), "query.set.collection: \"no spaces\" is not a valid "
        + "collection name; use 1-128 characters of A-Z a-z 0-9 _ . -");
    assertInvalid(query(get("a/b", "k")), "query.get.collection: \"a/b\" is not a valid collection name; use "
        + "1-128 characters of A-Z a-z 0-9 _ . -");
    assertThat(query(set("x".repeat(129), "k", "v")).status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(query(set("Ok_name-1.2", "k", "v")).status()).isEqualTo(GrpcStatus.OK);
  }

  /**
   * A status message goes out as etcd's does (grpc-go's encoding): escaped only where gRPC requires, so that
   * grpc-js clients, which decode it with {@code decodeURI}, read etcd's texts as they are ("etcdserver%3A ..."
   * made the {@code etcd3} npm client miss "etcdserver: requested lease not found", which it ignores on a revoke).
   */
  @Test
  void statusMessagesAreEscapedOnlyWhereGrpcRequires() throws Exception {
    MultiMap trailers = TestServer.await(server.newClient()
        .request(server.grpcAddress(), LeaseGrpcClient.LeaseRevoke).compose(call -> {
          call.end(LeaseRevokeRequest.newBuilder().setID(1234).build());
          return call.response().map(response -> {
            MultiMap all = MultiMap.caseInsensitiveMultiMap().addAll(response.headers());
            return all.addAll(response.trailers());
          });
        }));
    assertThat(trailers.getAll("grpc-status")).containsExactly("5");
    assertThat(trailers.getAll("grpc-message")).containsExactly("etcdserver: requested lease not found");

    assertInvalid(query(set("café 100%", "k", "v")), "query.set.collection: \"café 100%\" is not a valid "
        + "collection name; use 1-128 characters of A-Z a-z 0-9 _ . -");
    assertThat(GrpcStatusMessage.encode("café 100%\n")).isEqualTo("caf%C3%A9 100%25%0A");
    // read back as written: a '+' stays a '+' (Vert.x's own reading makes it a space), a stray '%' stays itself
    assertThat(GrpcStatusMessage.decode("caf%C3%A9 1+1 100%25%0A")).isEqualTo("café 1+1 100%\n");
    assertThat(GrpcStatusMessage.decode("50% off %zz %4")).isEqualTo("50% off %zz %4");
  }

  @Test
  void emptyAndOversizeKeysAreRefused() throws Exception {
    assertInvalid(query(Query.newBuilder().setGet(GetQuery.newBuilder().setCollection("c")).build()),
        "query.get.key: must not be empty");
    assertInvalid(query(set("c", "k".repeat(17), "v")),
        "query.set.key: 17 bytes exceeds the limit of 16 bytes (limits.max-key-size)");
  }

  @Test
  void oversizeValuesAndRequestsAreRefused() throws Exception {
    assertInvalid(query(set("c", "k", "v".repeat(1001))),
        "query.set.value: 1001 bytes exceeds the limit of 1000 bytes (limits.max-value-size)");
    QueryRequest huge = QueryRequest.newBuilder().setQuery(set("c", "k", "v")).setRequestId("r".repeat(3000)).build();
    Reply<QueryResponse> reply = server.call(QueryServiceGrpcClient.ExecuteQuery, huge);
    assertThat(reply.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(reply.message()).matches("the request is \\d+ bytes; the limit is 2048 bytes "
        + "\\(limits.max-request-size\\)");
  }

  @Test
  void aQueryWithoutAKindIsRefused() throws Exception {
    assertInvalid(query(Query.getDefaultInstance()),
        "query: the query has no kind; set exactly one of get, set, delete, range, filter, update");
    Reply<QueryResponse> noQuery = server.call(QueryServiceGrpcClient.ExecuteQuery, QueryRequest.getDefaultInstance());
    assertInvalid(noQuery, "query: missing; set query to one of get, set, delete, range, filter, update");
  }

  @Test
  void nothingInvalidWasStoredAndTheServerStillServes() throws Exception {
    query(Query.newBuilder().setSet(SetQuery.newBuilder().setCollection("c").setKey(bytes("k".repeat(17)))
        .setValue(ByteString.EMPTY)).build());
    assertThat(query(get("c", "k".repeat(16))).ok().getResult().getGet().getFound()).isFalse();
    assertThat(query(set("c", "fine", "1")).status()).isEqualTo(GrpcStatus.OK);
  }
}
