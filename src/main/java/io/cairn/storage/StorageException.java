package io.cairn.storage;

/** The store could not be opened; {@code key} names the configuration key an operator should look at. */
public final class StorageException extends RuntimeException {

  private final String key;

  public StorageException(String key, String message, Throwable cause) {
    super(message, cause);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
