package io.cairn.config;

import io.cairn.CairnServer;
import io.cairn.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Configuration precedence, validation errors by key, and the documented file staying true. */
class ConfigLoaderTest {

  @TempDir
  Path dir;
  private Vertx vertx;

  @BeforeEach
  void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  private CairnConfig load(Path file, Map<String, String> env, Map<String, String> props, Map<String, String> flags)
      throws Exception {
    Map<String, String> allFlags = new HashMap<>(flags);
    allFlags.putIfAbsent("storage.data-dir", dir.resolve("data").toString());
    return await(ConfigLoader.load(vertx, new ConfigLoader.Sources(file, file != null, env, props, allFlags)));
  }

  private ConfigException failure(Path file, Map<String, String> env, Map<String, String> flags) {
    return (ConfigException) org.assertj.core.api.Assertions.catchThrowable(() -> load(file, env, Map.of(), flags));
  }

  @Test
  void defaultsApplyWhenNothingIsSet() throws Exception {
    CairnConfig config = load(null, Map.of(), Map.of(), Map.of());
    assertThat(config.grpc().port()).isEqualTo(7379);
    assertThat(config.http().port()).isEqualTo(7380);
    assertThat(config.grpc().host()).isEqualTo("127.0.0.1");
    assertThat(config.front().instances()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(config.storage().sync()).isTrue();
    assertThat(config.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void eachSourceOverridesTheOneBelowIt() throws Exception {
    Path file = dir.resolve("cairn.yaml");
    Files.writeString(file, "grpc:\n  port: 1001\nhttp:\n  port: 2001\nfront:\n  instances: 3\n"
        + "storage:\n  readers: 3\nlog:\n  level: warn\n");
    Map<String, String> env = Map.of("CAIRN_HTTP_PORT", "2002", "CAIRN_FRONT_INSTANCES", "4",
        "CAIRN_STORAGE_READERS", "4", "PATH", "/bin");
    Map<String, String> props = Map.of("cairn.front.instances", "5", "cairn.storage.readers", "5");
    Map<String, String> flags = Map.of("storage.readers", "6");
    CairnConfig config = load(file, env, props, flags);
    assertThat(config.grpc().port()).as("file over default").isEqualTo(1001);
    assertThat(config.http().port()).as("environment over file").isEqualTo(2002);
    assertThat(config.front().instances()).as("system property over environment").isEqualTo(5);
    assertThat(config.storage().readers()).as("flag over system property").isEqualTo(6);
    assertThat(config.log().level()).as("file value left alone").isEqualTo("warn");
  }

  @Test
  void everyErrorIsListedByItsKey() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "grpc:\n  prot: 1\n  port: seventy\nstorage:\n  sync: maybe\nlimits:\n"
        + "  max-batch-ops: 0\nshutdown:\n  timeout: forever\nbogus: 1\nlog:\n  format: xml\n");
    ConfigException e = failure(file, Map.of("CAIRN_NO_SUCH", "1"), Map.of());
    assertThat(e.errors()).containsExactlyInAnyOrder(
        "grpc.prot: unknown key (did you mean grpc.port?) (from " + file + ")",
        "bogus: unknown key (from " + file + ")",
        "CAIRN_NO_SUCH: unknown environment setting; names are CAIRN_<SECTION>_<KEY>, e.g. CAIRN_GRPC_PORT "
            + "(from environment)",
        "grpc.port: expected an integer, got \"seventy\" (from " + file + ")",
        "storage.sync: expected true or false, got \"maybe\" (from " + file + ")",
        "limits.max-batch-ops: must be between 1 and 100000, got 0 (from " + file + ")",
        "shutdown.timeout: expected a duration such as 500ms, 30s or 2m, got \"forever\" (from " + file + ")",
        "log.format: expected one of text, json, got \"xml\" (from " + file + ")");
  }

  @Test
  void outOfRangeAndInconsistentValuesAreRefused() {
    ConfigException e = failure(null, Map.of(), Map.of("grpc.port", "70000", "limits.max-value-size", "4000000",
        "limits.max-request-size", "2000000"));
    assertThat(e.errors()).containsExactly(
        "grpc.port: must be between 0 and 65535, got 70000 (from the command line)");
    ConfigException cross = failure(null, Map.of(), Map.of("limits.max-value-size", "4000000",
        "limits.max-request-size", "2000000", "http.port", "7379"));
    assertThat(cross.errors()).containsExactly(
        "limits.max-value-size: 4000000 plus limits.max-key-size 4096 exceeds limits.max-request-size 2000000; "
            + "such a value could never be sent: raise limits.max-request-size or lower the others",
        "http.port: 7379 is also grpc.port; the two ports must differ");
  }

  @Test
  void anUnusableDataDirIsRefused() throws Exception {
    Path file = Files.writeString(dir.resolve("plain-file"), "x");
    ConfigException e = failure(null, Map.of(), Map.of("storage.data-dir", file.resolve("db").toString()));
    assertThat(e.errors()).containsExactly("storage.data-dir: " + file.resolve("db") + " cannot be created: "
        + file + " is not a directory");
  }

  @Test
  void aMissingExplicitFileIsRefused() {
    ConfigException e = failure(dir.resolve("absent.yaml"), Map.of(), Map.of());
    assertThat(e.errors()).containsExactly("--conf: file " + dir.resolve("absent.yaml")
        + " does not exist or is not a regular file");
  }

  @Test
  void theShippedFileDocumentsEveryKeyWithItsDefault() throws Exception {
    String text = Files.readString(Path.of("conf", "cairn.yaml"));
    Map<String, Object> yaml = new Yaml().load(text);
    JsonObject shipped = new JsonObject(yaml);
    for (ConfigKey key : ConfigSchema.KEYS) {
      String[] parts = key.name().split("\\.");
      assertThat(text).as("documents " + key.name()).contains(parts[parts.length - 1] + ":");
      JsonObject section = shipped;
      for (int i = 0; i < parts.length - 1 && section != null; i++) {
        section = section.getJsonObject(parts[i]);
      }
      String last = parts[parts.length - 1];
      if (section != null && section.containsKey(last)) {
        assertThat(key.convert(section.getValue(last))).as(key.name())
            .isEqualTo(key.convert(key.defaultValue().get()));
      } else {
        assertThat(key.name()).as("only the per-core defaults are left commented")
            .isIn("front.instances", "storage.readers");
      }
    }
    CairnConfig fromFile = load(Path.of("conf", "cairn.yaml"), Map.of(), Map.of(), Map.of());
    assertThat(fromFile).isEqualTo(load(null, Map.of(), Map.of(), Map.of()));
  }

  @Test
  void aBusyPortRefusesToStartNamingTheKey() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      CairnConfig config = TestServer.config(dir.resolve("busy"), "grpc.port=" + busy.getLocalPort());
      assertThatThrownBy(() -> await(CairnServer.start(config)))
          .isInstanceOf(ConfigException.class)
          .hasMessage("grpc.port: 127.0.0.1:" + busy.getLocalPort()
              + " is already in use by another process; choose another port");
      CairnConfig httpBusy = TestServer.config(dir.resolve("busy2"), "http.port=" + busy.getLocalPort());
      assertThatThrownBy(() -> await(CairnServer.start(httpBusy)))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("http.port: 127.0.0.1:" + busy.getLocalPort() + " is already in use");
    }
  }
}
