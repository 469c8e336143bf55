package io.cairn.front.query;

import io.cairn.TestServer;
import io.cairn.TestServer.Reply;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.BatchResponse;
import io.cairn.proto.v1.HealthCheckRequest;
import io.cairn.proto.v1.HealthCheckResponse;
import io.cairn.proto.v1.ProtocolVersion;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.ServerInfo;
import io.cairn.proto.v1.ServerInfoRequest;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.cairn.Queries.batch;
import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/** Protocol versions, GetServerInfo and HealthCheck over real gRPC. */
class ServerInfoTest {

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static QueryRequest speaking(int major, int minor, QueryRequest request) {
    return request.toBuilder().setProtocolVersion(ProtocolVersion.newBuilder().setMajor(major).setMinor(minor))
        .build();
  }

  @Test
  void anotherMajorVersionIsRefusedListingTheSupportedOnes() throws Exception {
    Reply<QueryResponse> newer = server.call(QueryServiceGrpcClient.ExecuteQuery,
        speaking(2, 0, request(get("v", "k"))));
    assertThat(newer.status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(newer.message()).isEqualTo("protocol version 2.0 is not supported; this server speaks 1.0, 1.1 "
        + "(any 1.x client is served)");

    BatchRequest oldBatch = batch(set("v", "k", "1")).toBuilder()
        .setProtocolVersion(ProtocolVersion.newBuilder().setMajor(0).setMinor(3)).build();
    Reply<BatchResponse> refused = server.call(QueryServiceGrpcClient.ExecuteBatch, oldBatch);
    assertThat(refused.status()).isEqualTo(GrpcStatus.FAILED_PRECONDITION);
    assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("v", "k"))).ok().getResult().getGet()
        .getFound()).as("the refused batch wrote nothing").isFalse();
  }

  @Test
  void theSameMajorVersionOrNoneIsServed() throws Exception {
    assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, speaking(1, 0, request(set("v", "a", "1"))))
        .status()).isEqualTo(GrpcStatus.OK);
    assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, speaking(1, 9, request(get("v", "a"))))
        .ok().getResult().getGet().getFound()).as("a newer minor is served").isTrue();
    assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("v", "a"))).status())
        .isEqualTo(GrpcStatus.OK);
  }

  @Test
  void serverInfoDescribesThisMember() throws Exception {
    ServerInfo info = server.call(QueryServiceGrpcClient.GetServerInfo, ServerInfoRequest.getDefaultInstance()).ok();
    QueryResponse any = server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("v", "zz"))).ok();
    assertThat(info.getServerVersion()).isNotEmpty();
    assertThat(info.getProtocolVersionsList()).containsExactly("1.0", "1.1");
    assertThat(info.getCapabilitiesList()).contains("get", "set", "delete", "range", "filter", "update", "batch",
        "stream", "interactive", "etcd-v3");
    assertThat(info.getUptimeMs()).isPositive();
    assertThat(info.getClusterId()).isEqualTo(any.getHeader().getClusterId()).isNotZero();
    assertThat(info.getMemberId()).isEqualTo(any.getHeader().getMemberId()).isNotZero();
  }

  @Test
  void healthCheckMirrorsReadiness() throws Exception {
    HealthCheckResponse health = server.call(QueryServiceGrpcClient.HealthCheck,
        HealthCheckRequest.getDefaultInstance()).ok();
    assertThat(health.getReady()).isTrue();
    assertThat(health.getChecksList()).extracting(HealthCheckResponse.Check::getName)
        .containsExactly("storage", "cluster", "grpc-front");
    assertThat(health.getChecksList()).allMatch(HealthCheckResponse.Check::getOk);
  }
}
