package io.cairn.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One configuration key: its dotted name, type, default, bounds and documentation. {@link ConfigSchema#KEYS} lists
 * them all; loading, validation, environment names and {@code conf/cairn.yaml} all derive from it.
 */
public record ConfigKey(String name, Type type, Supplier<Object> defaultValue, long min, long max,
                        List<String> choices, String doc) {

  /** {@code OPTIONAL_STRING} may be empty, which means "not set". */
  public enum Type { INT, LONG, BOOL, STRING, OPTIONAL_STRING, DURATION, CHOICE }

  /** {@code grpc.port} → {@code CAIRN_GRPC_PORT}; {@code front.max-inflight} → {@code CAIRN_FRONT_MAX_INFLIGHT}. */
  public String envName() {
    return "CAIRN_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** {@code grpc.port} → {@code cairn.grpc.port}. */
  public String systemPropertyName() {
    return "cairn." + name;
  }

  /**
   * Converts a value from any source (YAML gives typed values, the environment, system properties and flags give
   * strings) into this key's Java type, or explains in words why it cannot.
   */
  public Object convert(Object raw) throws IllegalArgumentException {
    return switch (type) {
      case INT, LONG -> {
        long v;
        if (raw instanceof Number n && !(raw instanceof Double || raw instanceof Float)) {
          v = n.longValue();
        } else if (raw instanceof String s) {
          try {
            v = Long.parseLong(s.trim());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected an integer, got \"" + s + "\"");
          }
        } else {
          throw new IllegalArgumentException("expected an integer, got " + describe(raw));
        }
        if (v < min || v > max) {
          throw new IllegalArgumentException("must be between " + min + " and " + max + ", got " + v);
        }
        yield type == Type.INT ? (Object) (int) v : (Object) v;
      }
      case BOOL -> {
        if (raw instanceof Boolean b) {
          yield b;
        }
        if (raw instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
          yield Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException("expected true or false, got " + describe(raw));
      }
      case STRING -> {
        if (raw instanceof String s && !s.isBlank()) {
          yield s;
        }
        throw new IllegalArgumentException("expected a non-empty string, got " + describe(raw));
      }
      case OPTIONAL_STRING -> {
        if (raw instanceof String s) {
          yield s.strip();
        }
        throw new IllegalArgumentException("expected a string (empty for none), got " + describe(raw));
      }
      case DURATION -> {
        if (!(raw instanceof String) && !(raw instanceof Number)) {
          throw new IllegalArgumentException("expected a duration such as 500ms, 30s or 2m, got " + describe(raw));
        }
        Duration d = Durations.parse(String.valueOf(raw));
        if (d.toMillis() < min || d.toMillis() > max) {
          throw new IllegalArgumentException("must be between " + Durations.format(Duration.ofMillis(min))
              + " and " + Durations.format(Duration.ofMillis(max)) + ", got " + raw);
        }
        yield d;
      }
      case CHOICE -> {
        if (raw instanceof String s && choices.contains(s.toLowerCase(Locale.ROOT))) {
          yield s.toLowerCase(Locale.ROOT);
        }
        throw new IllegalArgumentException("expected one of " + String.join(", ", choices) + ", got "
            + describe(raw));
      }
    };
  }

  private static String describe(Object raw) {
    if (raw instanceof String s) {
      return "\"" + s + "\"";
    }
    if (raw == null) {
      return "nothing";
    }
    String kind = raw instanceof io.vertx.core.json.JsonObject ? "a section"
        : raw instanceof io.vertx.core.json.JsonArray ? "a list" : raw.getClass().getSimpleName().toLowerCase(Locale.ROOT);
    return kind + " (" + raw + ")";
  }
}
