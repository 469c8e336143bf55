package io.cairn;

import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Stopping under load: requests in flight are answered, and every acknowledged write is kept. */
class GracefulStopTest {

  @TempDir
  Path dataDir;

  @Test
  void inFlightWritesFinishAndSurviveTheStop() throws Exception {
    List<Future<TestServer.Reply<QueryResponse>>> inFlight;
    try (TestServer server = TestServer.start(dataDir)) {
      inFlight = IntStream.range(0, 500)
          .mapToObj(i -> server.callAsync(QueryServiceGrpcClient.ExecuteQuery, request(set("stop", "k" + i, "v")), 0))
          .toList();
      // wait until the first write is answered, so the burst is in the server, then stop with the rest in flight
      await(inFlight.get(0));
      await(server.server().stop());
      await(Future.join(inFlight).otherwiseEmpty());
    }
    List<Integer> acknowledged = IntStream.range(0, inFlight.size())
        .filter(i -> inFlight.get(i).succeeded() && inFlight.get(i).result().status() == GrpcStatus.OK)
        .boxed().toList();
    assertThat(acknowledged).isNotEmpty();
    assertThat(inFlight).allSatisfy(f -> assertThat(f.isComplete()).as("every call got an answer").isTrue());

    try (TestServer restarted = TestServer.start(dataDir)) {
      for (int i : acknowledged) {
        assertThat(restarted.call(QueryServiceGrpcClient.ExecuteQuery, request(get("stop", "k" + i))).ok()
            .getResult().getGet().getFound()).as("acknowledged write k" + i).isTrue();
      }
    }
  }
}
