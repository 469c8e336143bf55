package io.cairn.e2e;

import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static org.assertj.core.api.Assertions.assertThat;

/** The fat jar's commands as an operator runs them. */
class CliIT {

  @TempDir
  Path dir;

  @Test
  void versionPrintsTheVersion() throws Exception {
    CairnProcess p = CairnProcess.run("version");
    assertThat(p.waitForExit()).isZero();
    assertThat(p.text()).startsWith("cairn ").contains("native API: cairn.v1");
  }

  @Test
  void validateConfigListsEveryErrorAndExitsTwo() throws Exception {
    CairnProcess p = CairnProcess.run("validate-config", "--grpc-port", "99999", "--set", "storage.sync=maybe",
        "--set", "front.instanzes=2");
    assertThat(p.waitForExit()).isEqualTo(2);
    assertThat(p.text()).contains("configuration has 3 error(s)",
        "grpc.port: must be between 0 and 65535, got 99999 (from the command line)",
        "storage.sync: expected true or false, got \"maybe\" (from the command line)",
        "front.instanzes: unknown key (did you mean front.instances?) (from the command line)");
    assertThat(p.text()).doesNotContain("Exception");

    CairnProcess ok = CairnProcess.run("validate-config", "--conf", "conf/cairn.yaml");
    assertThat(ok.waitForExit()).isZero();
    assertThat(ok.text()).contains("configuration is valid");
  }

  @Test
  void startRefusesABadConfigurationWithExitTwo() throws Exception {
    CairnProcess p = CairnProcess.run("start", "--data-dir", dir.toString(), "--set", "log.format=xml");
    assertThat(p.waitForExit()).isEqualTo(2);
    assertThat(p.text()).contains("log.format: expected one of text, json, got \"xml\"");
  }

  @Test
  void sigtermStopsCleanlyWithExitZeroAndKeepsData() throws Exception {
    try (CairnProcess server = CairnProcess.startServer(dir.resolve("data"), "--set", "log.format=json")) {
      Vertx vertx = Vertx.vertx();
      GrpcClient grpc = GrpcClient.client(vertx);
      try {
        QueryServiceGrpcClient client = QueryServiceGrpcClient.create(grpc,
            SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"));
        client.executeQuery(request(set("c", "k", "v"))).toCompletionStage().toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.httpPort() + "/readyz")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
      } finally {
        grpc.close();
        vertx.close();
      }
      server.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output
      assertThat(server.waitForExit()).isZero();
      assertThat(server.output).anySatisfy(line -> assertThat(line).startsWith("{").contains("stopped cleanly"));
    }
  }

  @Test
  void theLaunchScriptRunsTheServerOnTheParallelCollectorUnderItsHeapCeiling() throws Exception {
    String metrics = metricsOfLaunchScriptServer(Map.of("CAIRN_HEAP", "256m"));
    assertThat(metrics).contains("id=\"PS Old Gen\"").doesNotContain("G1");
    double heapMax = metrics.lines()
        .filter(line -> line.startsWith("jvm_memory_max_bytes{area=\"heap\""))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
        .sum();
    assertThat(heapMax).isBetween(200.0 * (1 << 20), 256.0 * (1 << 20));
  }

  @Test
  void aCollectorNamedInCairnJavaOptsReplacesTheDefaultOne() throws Exception {
    String metrics = metricsOfLaunchScriptServer(Map.of("CAIRN_HEAP", "256m", "CAIRN_JAVA_OPTS", "-XX:+UseG1GC"));
    assertThat(metrics).contains("jvm_memory_max_bytes{area=\"heap\",id=\"G1 Old Gen\"} 2.68435456E8")
        .doesNotContain("PS Old Gen");
  }

  private String metricsOfLaunchScriptServer(Map<String, String> environment) throws Exception {
    try (CairnProcess server = CairnProcess.startWithLaunchScript(environment, dir.resolve("data"))) {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    }
  }

}
