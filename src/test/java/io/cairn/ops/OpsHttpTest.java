package io.cairn.ops;

import io.cairn.TestServer;
import io.cairn.bus.Heartbeats;
import io.cairn.config.CairnConfig;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP ops port: probes, etcd-style health, Prometheus metrics, version. */
class OpsHttpTest {

  private static TestServer server;
  private static WebClient web;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    web = WebClient.create(server.clientVertx());
  }

  @AfterAll
  static void stop() throws Exception {
    web.close();
    server.close();
  }

  private static HttpResponse<Buffer> get(String path) throws Exception {
    return await(web.get(server.httpPort(), "127.0.0.1", path).send());
  }

  @Test
  void livenessProbesAnswerOk() throws Exception {
    for (String path : new String[] {"/livez", "/healthz"}) {
      HttpResponse<Buffer> response = get(path);
      assertThat(response.statusCode()).as(path).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("ok\n");
    }
  }

  @Test
  void readinessListsEveryCheckWhenVerbose() throws Exception {
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    HttpResponse<Buffer> verbose = get("/readyz?verbose");
    assertThat(verbose.statusCode()).isEqualTo(200);
    assertThat(verbose.bodyAsString()).isEqualTo(
        "[+]storage ok\n[+]cluster ok\n[+]grpc-front ok\nreadyz check passed\n");
  }

  @Test
  void healthAnswersInEtcdFormat() throws Exception {
    HttpResponse<Buffer> response = get("/health");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getString("health")).isEqualTo("true");
  }

  @Test
  void versionIsJson() throws Exception {
    JsonObject version = get("/version").bodyAsJsonObject();
    assertThat(version.getString("cairn")).isNotBlank();
    assertThat(version.getString("etcdserver")).startsWith("3.");
  }

  @Test
  void metricsCountRpcsByMethodAndStatusAndReportStorage() throws Exception {
    server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("metered", "k", "v"))).ok();
    server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("", "k", "v")));
    HttpResponse<Buffer> response = get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    String text = response.bodyAsString();
    assertThat(text)
        .contains("cairn_rpc_requests_total{code=\"OK\",method=\"cairn.v1.QueryService/ExecuteQuery\"}")
        .contains("cairn_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"cairn.v1.QueryService/ExecuteQuery\"}")
        .contains("cairn_rpc_duration_seconds_bucket{method=\"cairn.v1.QueryService/ExecuteQuery\"")
        .contains("cairn_storage_revision ")
        .contains("cairn_storage_keys ")
        .contains("cairn_storage_db_size_bytes ")
        .contains("jvm_memory_used_bytes")
        .doesNotContain("vertx_eventbus_");
    assertThat(metricValue(text, "cairn_storage_keys")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void processMetricsHavePrometheusStandardNamesAsEtcds() throws Exception {
    String text = get("/metrics").bodyAsString();
    long residentKb = Files.readAllLines(Path.of("/proc/self/status")).stream()
        .filter(l -> l.startsWith("VmRSS:")).map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst()
        .orElseThrow();
    // the test runs in the server's JVM: its resident size is this process's, give or take what moved meanwhile
    assertThat(metricValue(text, "process_resident_memory_bytes")).isBetween(residentKb * 1024 * 0.5,
        residentKb * 1024 * 2.0);
    assertThat(metricValue(text, "process_virtual_memory_bytes"))
        .isGreaterThan(metricValue(text, "process_resident_memory_bytes"));
    assertThat(metricValue(text, "process_cpu_seconds_total")).isPositive();
    assertThat(metricValue(text, "process_open_fds")).isPositive()
        .isLessThanOrEqualTo(metricValue(text, "process_max_fds"));
  }

  @Test
  void vertxRequestAndBusMetricsAreThereWhenAskedFor() throws Exception {
    try (TestServer detailed = TestServer.start("metrics.vertx-detail=true")) {
      detailed.call(QueryServiceGrpcClient.ExecuteQuery, request(set("metered", "k", "v"))).ok();
      assertThat(detailed.metric("vertx_http_server_requests_total")).as("HTTP/2 requests answered").isPositive();
      assertThat(detailed.metric("vertx_eventbus_sent_total")).as("bus messages sent").isPositive();
    }
  }

  static double metricValue(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(name.length() + 1))).orElseThrow();
  }

  /** A GET to the ops verticle deployed alone. */
  private interface OpsGet {
    HttpResponse<Buffer> get(String path) throws Exception;
  }

  private interface OpsAlone {
    void check(Vertx vertx, OpsGet ops) throws Exception;
  }

  /** Runs {@code check} against the ops verticle alone, on a Vert.x of its own: no storage, cluster or front. */
  private static void withOpsAlone(OpsAlone check) throws Exception {
    Path dataDir = Files.createTempDirectory("cairn-ops");
    CairnConfig config = TestServer.config(dataDir);
    Vertx vertx = Vertx.vertx();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try {
      OpsHttpVerticle ops = new OpsHttpVerticle(config, registry);
      await(vertx.deployVerticle(ops));
      WebClient client = WebClient.create(vertx);
      check.check(vertx, path -> await(client.get(ops.actualPort(), "127.0.0.1", path).send()));
    } finally {
      await(vertx.close());
      registry.close();
      TestServer.deleteTree(dataDir);
    }
  }

  @Test
  void readinessNamesTheFailingCheckWhenStorageIsAbsent() throws Exception {
    // With no storage, cluster or front deployed, every readiness check must fail by name.
    withOpsAlone((vertx, ops) -> {
      HttpResponse<Buffer> ready = ops.get("/readyz");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.bodyAsString()).startsWith("readyz check failed: storage: no answer from storage");
      HttpResponse<Buffer> verbose = ops.get("/readyz?verbose");
      assertThat(verbose.bodyAsString()).contains("[-]storage failed", "[-]cluster failed",
          "[-]grpc-front failed: 0 of 2 gRPC fronts are listening", "readyz check failed");
      HttpResponse<Buffer> health = ops.get("/health");
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.bodyAsJsonObject().getString("health")).isEqualTo("false");
      assertThat(get("/livez").statusCode()).isEqualTo(200);
    });
  }

  @Test
  void livenessFailsForAWriterBlockedInOneCommitPastTheLimit() throws Exception {
    // The writer's stamps are set here as a writer stuck in a sync would leave them.
    withOpsAlone((vertx, ops) -> {
      long now = System.currentTimeMillis();
      Heartbeats.busySince(Heartbeats.stamps(vertx), "storage-writer", now - 2_000);
      assertThat(ops.get("/livez").statusCode()).as("a long commit is work").isEqualTo(200);

      Heartbeats.busySince(Heartbeats.stamps(vertx), "storage-writer", now - Heartbeats.BUSY_LIMIT_MS - 5_000);
      HttpResponse<Buffer> hung = ops.get("/livez");
      assertThat(hung.statusCode()).isEqualTo(503);
      assertThat(hung.bodyAsString()).startsWith("livez check failed: storage-writer (blocked in one commit for 6")
          .endsWith(" ms)\n");

      Heartbeats.stamp(Heartbeats.stamps(vertx), "storage-writer");
      assertThat(ops.get("/livez").statusCode()).isEqualTo(200);
      Heartbeats.stamps(vertx).put("storage-writer", now - Heartbeats.STALE_MS - 1_000);
      HttpResponse<Buffer> silent = ops.get("/livez");
      assertThat(silent.statusCode()).isEqualTo(503);
      assertThat(silent.bodyAsString()).contains("storage-writer (event loop unresponsive for ");
    });
  }
}
