package io.cairn.config;

import java.util.List;

/** The configuration cannot be used; every problem is listed, each naming its key. */
public final class ConfigException extends RuntimeException {

  private final List<String> errors;

  public ConfigException(List<String> errors) {
    super(String.join("\n", errors), null, false, false);
    this.errors = List.copyOf(errors);
  }

  public static ConfigException of(String key, String problem) {
    return new ConfigException(List.of(key + ": " + problem));
  }

  public List<String> errors() {
    return errors;
  }
}
