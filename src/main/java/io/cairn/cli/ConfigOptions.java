package io.cairn.cli;

import io.cairn.CairnServer;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/** The configuration flags shared by {@code start} and {@code validate-config}. */
public final class ConfigOptions {

  @Option(names = "--conf", paramLabel = "FILE", description = "YAML configuration file (default: conf/cairn.yaml "
      + "when present)")
  Path conf;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "data directory (storage.data-dir)")
  String dataDir;

  @Option(names = "--grpc-port", paramLabel = "N", description = "gRPC port (grpc.port)")
  String grpcPort;

  @Option(names = "--http-port", paramLabel = "N", description = "HTTP ops port (http.port)")
  String httpPort;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "any configuration key, e.g. --set "
      + "front.instances=4 (repeatable)")
  Map<String, String> settings = new LinkedHashMap<>();

  Map<String, String> flags() {
    Map<String, String> flags = new LinkedHashMap<>(settings);
    if (dataDir != null) {
      flags.put("storage.data-dir", dataDir);
    }
    if (grpcPort != null) {
      flags.put("grpc.port", grpcPort);
    }
    if (httpPort != null) {
      flags.put("http.port", httpPort);
    }
    return flags;
  }

  /** Loads and validates the configuration with a short-lived Vert.x instance. */
  CairnConfig load() throws Exception {
    Vertx vertx = Vertx.vertx(CairnServer.vertxOptions());
    try {
      return ConfigLoader.load(vertx, ConfigLoader.Sources.ofProcess(conf, flags()))
          .toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } finally {
      vertx.close();
    }
  }
}
