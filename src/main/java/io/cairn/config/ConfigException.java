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

  /**
   * A failure to listen, turned into a configuration error naming {@code key} when the port is taken; any other
   * failure is returned as it is.
   */
  public static Throwable ifPortInUse(Throwable failure, String key, String host, int port) {
    if (failure instanceof java.net.BindException
        || String.valueOf(failure.getMessage()).contains("Address already in use")) {
      return of(key, host + ":" + port + " is already in use by another process; choose another port");
    }
    return failure;
  }

  public List<String> errors() {
    return errors;
  }
}
