package io.cairn.front.query;

import io.cairn.TestServer;
import io.cairn.proto.v1.FieldPredicate.Operator;
import io.cairn.proto.v1.FilterQuery;
import io.cairn.proto.v1.ProtocolVersion;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static io.cairn.Queries.get;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** ExecuteInteractive over real gRPC: answers in order, per-query errors, the in-flight bound. */
class InteractiveTest {

  private static QueryRequest tagged(String id, Query query) {
    return QueryRequest.newBuilder().setRequestId(id).setQuery(query).build();
  }

  /** The session: every request is written, then the stream is half-closed; answers are collected. */
  private record Session(GrpcClientRequest<QueryRequest, QueryResponse> call,
                         GrpcClientResponse<QueryRequest, QueryResponse> response,
                         List<QueryResponse> answers, Future<GrpcStatus> ended) {}

  private static Future<Session> open(TestServer server, GrpcClient client, List<QueryRequest> requests,
                                      Consumer<GrpcClientResponse<QueryRequest, QueryResponse>> beforeReading) {
    List<QueryResponse> answers = new CopyOnWriteArrayList<>();
    Promise<GrpcStatus> ended = Promise.promise();
    return client.request(server.grpcAddress(), QueryServiceGrpcClient.ExecuteInteractive).compose(call -> {
      Future<Session> session = call.response().map(response -> {
        if (beforeReading != null) {
          beforeReading.accept(response);
        }
        response.handler(answers::add);
        response.endHandler(v -> ended.tryComplete(response.status()));
        response.exceptionHandler(ended::tryFail);
        return new Session(call, response, answers, ended.future());
      });
      for (QueryRequest r : requests) {
        call.write(r);
      }
      call.end();
      return session;
    });
  }

  @Test
  void answersComeInOrderAndEachQuerySeesTheOnesBefore() throws Exception {
    try (TestServer server = TestServer.start()) {
      GrpcClient client = server.newClient();
      List<QueryRequest> requests = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        requests.add(tagged("set-" + i, set("session", "counter", String.valueOf(i))));
        requests.add(tagged("get-" + i, get("session", "counter")));
        requests.add(tagged("get-again-" + i, get("session", "counter")));
      }
      Session session = await(open(server, client, requests, null));
      assertThat(await(session.ended())).isEqualTo(GrpcStatus.OK);
      List<QueryResponse> answers = session.answers();
      assertThat(answers.stream().map(QueryResponse::getRequestId))
          .containsExactlyElementsOf(requests.stream().map(QueryRequest::getRequestId).toList());
      for (int i = 0; i < 150; i++) {
        long written = answers.get(3 * i).getHeader().getRevision();
        for (int read = 1; read <= 2; read++) {
          QueryResponse got = answers.get(3 * i + read);
          assertThat(got.getResult().getGet().getKv().getValue().toStringUtf8())
              .as(got.getRequestId() + " sees the set just before it").isEqualTo(String.valueOf(i));
          assertThat(got.getHeader().getRevision()).isEqualTo(written);
        }
      }
      client.close();
    }
  }

  @Test
  void aFailingQueryIsAnsweredWithItsErrorAndTheStreamGoesOn() throws Exception {
    try (TestServer server = TestServer.start()) {
      GrpcClient client = server.newClient();
      List<QueryRequest> requests = List.of(
          tagged("ok-set", set("errs", "a", "1")),
          tagged("bad-collection", set("no spaces allowed", "a", "1")),
          tagged("old-client", get("errs", "a")).toBuilder()
              .setProtocolVersion(ProtocolVersion.newBuilder().setMajor(0).setMinor(9)).build(),
          tagged("bad-path", Query.newBuilder().setFilter(FilterQuery.newBuilder().setCollection("errs")
              .setWhere(FilterUpdateTest.field(".x", Operator.OPERATOR_EXISTS))).build()),
          QueryRequest.newBuilder().setRequestId("no-query").build(),
          tagged("ok-get", get("errs", "a")));
      Session session = await(open(server, client, requests, null));
      assertThat(await(session.ended())).isEqualTo(GrpcStatus.OK);
      List<QueryResponse> answers = session.answers();
      assertThat(answers).hasSize(6);
      assertThat(answers.get(0).hasError()).isFalse();
      assertThat(answers.get(1).getRequestId()).isEqualTo("bad-collection");
      assertThat(answers.get(1).getError().getStatus()).isEqualTo("INVALID_ARGUMENT");
      assertThat(answers.get(1).getError().getCode()).isEqualTo(3);
      assertThat(answers.get(1).getError().getMessage()).startsWith("query.set.collection: \"no spaces allowed\"");
      assertThat(answers.get(2).getError().getStatus()).isEqualTo("FAILED_PRECONDITION");
      assertThat(answers.get(2).getError().getMessage()).isEqualTo("protocol version 0.9 is not supported; this "
          + "server speaks 1.0, 1.1 (any 1.x client is served)");
      assertThat(answers.get(3).getError().getMessage()).startsWith("query.filter.where.field.path: \".x\" has an "
          + "empty name at segment 1");
      assertThat(answers.get(4).getError().getMessage()).startsWith("query: missing");
      assertThat(answers.get(5).getResult().getGet().getKv().getValue().toStringUtf8()).isEqualTo("1");
      client.close();
    }
  }

  @Test
  void theServerStopsReadingAtTheInFlightBound() throws Exception {
    try (TestServer server = TestServer.start("stream.interactive-max-inflight=4")) {
      GrpcClient client = server.newClient();
      server.call(QueryServiceGrpcClient.ExecuteQuery, io.cairn.Queries.request(set("bound", "big",
          "x".repeat(256 * 1024)))).ok();
      List<QueryRequest> requests = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        requests.add(tagged("q" + i, get("bound", "big")));
      }
      Session session = await(open(server, client, requests, GrpcClientResponse::pause));
      try {
        // Until the client's own buffers fill, answers still trickle out and the session resumes now and then;
        // once they are full it stays paused with exactly the bound in flight. It never goes past the bound.
        int steady = 0;
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (steady < 5) {
          assertThat(System.nanoTime()).as("the session settles at its bound within 60 s").isLessThan(deadline);
          java.util.Map<String, Double> m = server.metrics("cairn_interactive_paused", "cairn_interactive_inflight");
          assertThat(m.get("cairn_interactive_inflight")).as("queries read and not yet answered")
              .isLessThanOrEqualTo(4);
          boolean atBound = m.get("cairn_interactive_paused") == 1 && m.get("cairn_interactive_inflight") == 4;
          steady = atBound ? steady + 1 : 0;
        }
      } finally {
        server.clientVertx().runOnContext(v -> session.response().resume());
      }
      assertThat(await(session.ended())).isEqualTo(GrpcStatus.OK);
      assertThat(session.answers().stream().map(QueryResponse::getRequestId))
          .containsExactlyElementsOf(requests.stream().map(QueryRequest::getRequestId).toList());
      assertThat(session.answers()).allMatch(a -> a.getResult().getGet().getKv().getValue().size() == 256 * 1024);
      assertThat(server.awaitMetric("cairn_interactive_inflight", v -> v == 0)).isZero();
      client.close();
    }
  }
}
