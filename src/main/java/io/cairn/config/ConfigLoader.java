package io.cairn.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads the configuration with vertx-config and overlays it, lowest precedence first: defaults in code ← the YAML
 * file ← environment ({@code CAIRN_SECTION_KEY}) ← system properties ({@code cairn.section.key}) ← command-line
 * flags. Every problem is collected and reported at once, each naming its key and where the value came from.
 */
public final class ConfigLoader {

  /** The conventional configuration file, read when present and no other file is named. */
  public static final Path DEFAULT_FILE = Path.of("conf", "cairn.yaml");

  /** Where values come from; {@link #ofProcess} reads the real environment and system properties. */
  public record Sources(Path confFile, boolean confExplicit, Map<String, String> environment,
                        Map<String, String> systemProperties, Map<String, String> flags) {

    public static Sources ofProcess(Path explicitConf, Map<String, String> flags) {
      Map<String, String> props = new HashMap<>();
      System.getProperties().forEach((k, v) -> props.put(String.valueOf(k), String.valueOf(v)));
      Path file = explicitConf != null ? explicitConf : DEFAULT_FILE;
      return new Sources(file, explicitConf != null, System.getenv(), props, flags);
    }

    /** Defaults and flags only: what tests use to start a server on ephemeral ports. */
    public static Sources ofFlags(Map<String, String> flags) {
      return new Sources(null, false, Map.of(), Map.of(), flags);
    }
  }

  private ConfigLoader() {}

  public static Future<CairnConfig> load(Vertx vertx, Sources sources) {
    List<String> errors = new ArrayList<>();
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setScanPeriod(0)
        .addStore(new ConfigStoreOptions().setType("json").setConfig(defaultsAsJson()));
    Path file = sources.confFile();
    String fileLabel = null;
    if (file != null) {
      if (Files.isRegularFile(file)) {
        fileLabel = file.toString();
        options.addStore(new ConfigStoreOptions().setType("file").setFormat("yaml")
            .setConfig(new JsonObject().put("path", file.toAbsolutePath().toString())));
      } else if (sources.confExplicit()) {
        return Future.failedFuture(ConfigException.of("--conf", "file " + file.toAbsolutePath()
            + " does not exist or is not a regular file"));
      }
    }
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    String source = fileLabel == null ? "defaults" : fileLabel;
    return retriever.getConfig()
        .eventually(retriever::close)
        .recover(failure -> Future.failedFuture(ConfigException.of(
            sources.confExplicit() ? "--conf" : DEFAULT_FILE.toString(),
            "cannot read " + file + ": " + rootMessage(failure))))
        .compose(merged -> {
          Map<String, Layered> values = new LinkedHashMap<>();
          flatten("", merged, source, values, errors);
          overlay(sources, values, errors);
          Map<String, Object> converted = convert(values, errors);
          return vertx.executeBlocking(() -> {
            Object dataDir = converted.get("storage.data-dir");
            if (dataDir != null) {
              checkDataDir(Path.of((String) dataDir).toAbsolutePath().normalize(), errors);
            }
            if (!errors.isEmpty()) {
              throw new ConfigException(errors);
            }
            CairnConfig config = CairnConfig.of(converted);
            crossCheck(config, errors);
            if (!errors.isEmpty()) {
              throw new ConfigException(errors);
            }
            return config;
          });
        });
  }

  private record Layered(Object raw, String source) {}

  private static JsonObject defaultsAsJson() {
    JsonObject root = new JsonObject();
    for (ConfigKey key : ConfigSchema.KEYS) {
      String[] parts = key.name().split("\\.", 2);
      JsonObject section = root.getJsonObject(parts[0]);
      if (section == null) {
        section = new JsonObject();
        root.put(parts[0], section);
      }
      Object def = key.defaultValue().get();
      section.put(parts[1], def instanceof Duration d ? Durations.format(d) : def);
    }
    return root;
  }

  private static void flatten(String prefix, JsonObject object, String source, Map<String, Layered> out,
                              List<String> errors) {
    for (Map.Entry<String, Object> e : object) {
      String name = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      Object value = e.getValue();
      if (ConfigSchema.find(name) != null) {
        out.put(name, new Layered(value, source));
      } else if (value instanceof JsonObject nested && isSectionPrefix(name)) {
        flatten(name, nested, source, out, errors);
      } else if (isSectionPrefix(name)) {
        errors.add(name + ": expected a section of keys, got " + value + " (from " + source + ")");
      } else {
        errors.add(name + ": unknown key" + suggestion(name) + " (from " + source + ")");
      }
    }
  }

  private static boolean isSectionPrefix(String name) {
    return ConfigSchema.KEYS.stream().anyMatch(k -> k.name().startsWith(name + "."));
  }

  private static void overlay(Sources sources, Map<String, Layered> values, List<String> errors) {
    Map<String, ConfigKey> byEnv = new HashMap<>();
    ConfigSchema.KEYS.forEach(k -> byEnv.put(k.envName(), k));
    sources.environment().entrySet().stream()
        .filter(e -> e.getKey().startsWith("CAIRN_"))
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> {
          ConfigKey key = byEnv.get(e.getKey());
          if (key == null) {
            errors.add(e.getKey() + ": unknown environment setting; names are CAIRN_<SECTION>_<KEY>, e.g. "
                + ConfigSchema.find("grpc.port").envName() + " (from environment)");
          } else {
            values.put(key.name(), new Layered(e.getValue(), "environment " + e.getKey()));
          }
        });
    sources.systemProperties().entrySet().stream()
        .filter(e -> e.getKey().startsWith("cairn."))
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> {
          String name = e.getKey().substring("cairn.".length());
          if (ConfigSchema.find(name) == null) {
            errors.add(name + ": unknown key" + suggestion(name) + " (from system property " + e.getKey() + ")");
          } else {
            values.put(name, new Layered(e.getValue(), "system property " + e.getKey()));
          }
        });
    sources.flags().forEach((name, raw) -> {
      if (ConfigSchema.find(name) == null) {
        errors.add(name + ": unknown key" + suggestion(name) + " (from the command line)");
      } else {
        values.put(name, new Layered(raw, "the command line"));
      }
    });
  }

  private static Map<String, Object> convert(Map<String, Layered> values, List<String> errors) {
    Map<String, Object> converted = new LinkedHashMap<>();
    for (ConfigKey key : ConfigSchema.KEYS) {
      Layered layered = values.get(key.name());
      Object raw = layered == null ? key.defaultValue().get() : layered.raw();
      try {
        converted.put(key.name(), key.convert(raw));
      } catch (IllegalArgumentException e) {
        errors.add(key.name() + ": " + e.getMessage()
            + (layered == null ? "" : " (from " + layered.source() + ")"));
      }
    }
    return converted;
  }

  private static void crossCheck(CairnConfig config, List<String> errors) {
    CairnConfig.Limits limits = config.limits();
    if ((long) limits.maxValueSize() + limits.maxKeySize() > limits.maxRequestSize()) {
      errors.add("limits.max-value-size: " + limits.maxValueSize() + " plus limits.max-key-size "
          + limits.maxKeySize() + " exceeds limits.max-request-size " + limits.maxRequestSize()
          + "; such a value could never be sent: raise limits.max-request-size or lower the others");
    }
    if (config.grpc().port() != 0 && config.grpc().port() == config.http().port()) {
      errors.add("http.port: " + config.http().port() + " is also grpc.port; the two ports must differ");
    }
  }

  /** The directory must be writable, or creatable under its nearest existing parent. Creates nothing. */
  private static void checkDataDir(Path dir, List<String> errors) {
    Path existing = dir;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null || !Files.isDirectory(existing)) {
      errors.add("storage.data-dir: " + dir + " cannot be created: " + existing + " is not a directory");
      return;
    }
    try {
      Path probe = Files.createTempFile(existing, ".cairn-write-check", ".tmp");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      errors.add("storage.data-dir: " + (existing.equals(dir) ? dir + " is not writable"
          : dir + " cannot be created in " + existing) + " (" + rootMessage(e) + ")");
    }
  }

  private static String suggestion(String name) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (ConfigKey k : ConfigSchema.KEYS) {
      int d = editDistance(name, k.name());
      if (d < bestDistance) {
        bestDistance = d;
        best = k.name();
      }
    }
    return bestDistance <= 3 ? " (did you mean " + best + "?)" : "";
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String kind = root instanceof java.nio.file.FileSystemException ? root.getClass().getSimpleName() + ": " : "";
    return kind + (root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage());
  }
}
