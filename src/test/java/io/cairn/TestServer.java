package io.cairn;

import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import java.util.stream.Stream;

/** A real Cairn server on ephemeral loopback ports with a fresh data directory, and a real gRPC client to it. */
public final class TestServer implements AutoCloseable {

  private final CairnServer server;
  private final Vertx clientVertx;
  private final GrpcClient grpc;
  private final WebClient web;
  private final Path dataDir;
  private final boolean ownsDataDir;

  private TestServer(CairnServer server, Path dataDir, boolean ownsDataDir) {
    this.server = server;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.clientVertx = Vertx.vertx();
    this.grpc = GrpcClient.client(clientVertx);
    // one client for every read of /metrics: a client per read would leave a connection open per read
    this.web = WebClient.create(clientVertx);
  }

  /** A server on a fresh data directory of its own, deleted when the server is closed. */
  public static TestServer start(String... settings) throws Exception {
    Path dataDir = Files.createTempDirectory("cairn-test");
    try {
      return start(dataDir, true, settings);
    } catch (Exception e) {
      deleteTree(dataDir);
      throw e;
    }
  }

  /** A server on the caller's data directory, which stays when the server is closed. */
  public static TestServer start(Path dataDir, String... settings) throws Exception {
    return start(dataDir, false, settings);
  }

  private static TestServer start(Path dataDir, boolean ownsDataDir, String... settings) throws Exception {
    CairnConfig config = config(dataDir, settings);
    return new TestServer(await(CairnServer.start(config)), dataDir, ownsDataDir);
  }

  /** Stops this server and starts a new one on the same data directory, which the new one then owns if this did. */
  public TestServer restart(String... settings) throws Exception {
    stop();
    return start(dataDir, ownsDataDir, settings);
  }

  /** Deletes a directory and everything in it. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path path : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /** Defaults, ephemeral ports, the given data dir, then {@code key=value} settings as command-line flags. */
  public static CairnConfig config(Path dataDir, String... settings) throws Exception {
    Map<String, String> flags = new HashMap<>();
    flags.put("grpc.port", "0");
    flags.put("http.port", "0");
    flags.put("front.instances", "2");
    flags.put("storage.readers", "2");
    flags.put("storage.data-dir", dataDir.toString());
    flags.put("shutdown.timeout", "5s");
    for (String s : settings) {
      String[] kv = s.split("=", 2);
      flags.put(kv[0], kv[1]);
    }
    Vertx vertx = Vertx.vertx();
    try {
      return await(ConfigLoader.load(vertx, ConfigLoader.Sources.ofFlags(flags)));
    } finally {
      vertx.close();
    }
  }

  public static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  public CairnServer server() {
    return server;
  }

  public Path dataDir() {
    return dataDir;
  }

  public int grpcPort() {
    return server.grpcPort();
  }

  public int httpPort() {
    return server.httpPort();
  }

  public Vertx clientVertx() {
    return clientVertx;
  }

  /** A new gRPC client on the test's client Vert.x, taking messages up to 16 MiB (streams carry big chunks). */
  public GrpcClient newClient() {
    return GrpcClient.client(clientVertx, new io.vertx.grpc.client.GrpcClientOptions().setMaxMessageSize(16 << 20));
  }

  public SocketAddress grpcAddress() {
    return SocketAddress.inetSocketAddress(grpcPort(), "127.0.0.1");
  }

  /** The outcome of one unary call: status, status message, and the response when the status is OK. */
  public record Reply<T>(GrpcStatus status, String message, T body) {
    public T ok() {
      if (status != GrpcStatus.OK) {
        throw new AssertionError("expected OK, got " + status + ": " + message);
      }
      return body;
    }
  }

  /** A unary call that keeps the status message (the generated client drops it). */
  public <Req, Resp> Future<Reply<Resp>> callAsync(ServiceMethod<Resp, Req> method, Req request, long timeoutMs) {
    return grpc.request(SocketAddress.inetSocketAddress(grpcPort(), "127.0.0.1"), method).compose(call -> {
      if (timeoutMs > 0) {
        call.timeout(timeoutMs, TimeUnit.MILLISECONDS);
      }
      call.end(request);
      return call.response().compose(response -> response.last()
          .map(body -> new Reply<>(response.status(), response.statusMessage(), body))
          .recover(e -> Future.succeededFuture(new Reply<Resp>(response.status(), response.statusMessage(), null))));
    });
  }

  public <Req, Resp> Reply<Resp> call(ServiceMethod<Resp, Req> method, Req request) throws Exception {
    return await(callAsync(method, request, 0));
  }

  /** Sends every request at once on one connection and waits for all replies. */
  public <Req, Resp> List<Reply<Resp>> callAll(ServiceMethod<Resp, Req> method, List<Req> requests)
      throws Exception {
    List<Future<Reply<Resp>>> futures = requests.stream().map(r -> callAsync(method, r, 0)).toList();
    await(Future.join(futures));
    return futures.stream().map(Future::result).toList();
  }

  /** One Prometheus sample from the ops port's /metrics, summed over its label sets (0 when absent). */
  public Future<Double> metricAsync(String name) {
    return metricsAsync(name).map(m -> m.get(name));
  }

  /** Several samples from one read of /metrics, each summed over its label sets (0 when absent). */
  public Future<Map<String, Double>> metricsAsync(String... names) {
    return web.get(httpPort(), "127.0.0.1", "/metrics").send().map(response -> {
      Map<String, Double> sums = new HashMap<>();
      for (String name : names) {
        sums.put(name, 0.0);
      }
      for (String line : response.bodyAsString().split("\n")) {
        for (String name : names) {
          if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
            sums.merge(name, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
          }
        }
      }
      return sums;
    });
  }

  public Map<String, Double> metrics(String... names) throws Exception {
    return await(metricsAsync(names));
  }

  public double metric(String name) throws Exception {
    return await(metricAsync(name));
  }

  /**
   * Waits until a metric satisfies {@code condition} (metrics announce nothing, so this reads /metrics every 20
   * ms); fails after 20 s with the last value seen.
   */
  public double awaitMetric(String name, DoublePredicate condition) throws Exception {
    Promise<Double> done = Promise.promise();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    pollMetric(name, condition, deadline, done);
    return await(done.future());
  }

  private void pollMetric(String name, DoublePredicate condition, long deadline, Promise<Double> done) {
    metricAsync(name).onComplete(ar -> {
      if (ar.succeeded() && condition.test(ar.result())) {
        done.complete(ar.result());
      } else if (System.nanoTime() > deadline) {
        done.fail(new AssertionError("metric " + name + " never met the condition; last "
            + (ar.succeeded() ? "value " + ar.result() : "failure " + ar.cause())));
      } else {
        clientVertx.setTimer(20, id -> pollMetric(name, condition, deadline, done));
      }
    });
  }

  /** Stops the server and the client, and deletes the data directory if the server made it. */
  @Override
  public void close() throws Exception {
    try {
      stop();
    } finally {
      if (ownsDataDir) {
        deleteTree(dataDir);
      }
    }
  }

  private void stop() throws Exception {
    try {
      await(server.stop());
    } finally {
      grpc.close();
      web.close();
      await(clientVertx.close());
    }
  }
}
