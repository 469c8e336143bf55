package io.cairn.front;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import io.cairn.TestServer;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import io.vertx.grpc.reflection.v1.ServerReflectionRequest;
import io.vertx.grpc.reflection.v1.ServerReflectionResponse;
import io.vertx.grpc.reflection.v1.ServiceResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Standard gRPC probes and tooling on the gRPC port: grpc.health.v1 and server reflection v1. */
class HealthAndReflectionTest {

  private static final ServiceMethod<HealthCheckResponse, HealthCheckRequest> CHECK = ServiceMethod.client(
      ServiceName.create("grpc.health.v1", "Health"), "Check", GrpcMessageEncoder.encoder(),
      GrpcMessageDecoder.decoder(HealthCheckResponse.newBuilder()));
  private static final ServiceMethod<ServerReflectionResponse, ServerReflectionRequest> REFLECT =
      ServiceMethod.client(ServiceName.create("grpc.reflection.v1", "ServerReflection"), "ServerReflectionInfo",
          GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(ServerReflectionResponse.newBuilder()));

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void healthReportsServingForTheServerAndTheQueryService() throws Exception {
    for (String service : new String[] {"", "cairn.v1.QueryService"}) {
      HealthCheckResponse response = server.call(CHECK,
          HealthCheckRequest.newBuilder().setService(service).build()).ok();
      assertThat(response.getStatus()).as(service).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
    TestServer.Reply<HealthCheckResponse> unknown = server.call(CHECK,
        HealthCheckRequest.newBuilder().setService("no.such.Service").build());
    assertThat(unknown.status()).isEqualTo(GrpcStatus.NOT_FOUND);
  }

  @Test
  void reflectionListsTheServicesAndDescribesTheQueryApi() throws Exception {
    ServerReflectionResponse list = server.call(REFLECT,
        ServerReflectionRequest.newBuilder().setListServices("").build()).ok();
    assertThat(list.getListServicesResponse().getServiceList()).extracting(ServiceResponse::getName)
        .contains("cairn.v1.QueryService", "grpc.health.v1.Health");

    ServerReflectionResponse file = server.call(REFLECT,
        ServerReflectionRequest.newBuilder().setFileContainingSymbol("cairn.v1.QueryService").build()).ok();
    FileDescriptorProto proto = FileDescriptorProto.parseFrom(
        file.getFileDescriptorResponse().getFileDescriptorProto(0));
    assertThat(proto.getPackage()).isEqualTo("cairn.v1");
    assertThat(proto.getServiceList()).anySatisfy(s -> {
      assertThat(s.getName()).isEqualTo("QueryService");
      assertThat(s.getMethodList()).extracting(m -> m.getName()).contains("ExecuteQuery", "ExecuteBatch");
    });
  }
}
