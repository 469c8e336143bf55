package io.cairn.cli;

import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** Checks a configuration without starting; lists every error by its key; exit 2 when there are errors. */
@Command(name = "validate-config", mixinStandardHelpOptions = true,
    description = "Check the configuration without starting the server.")
public final class ValidateConfigCommand implements Callable<Integer> {

  @Mixin
  ConfigOptions options;

  @Override
  public Integer call() throws Exception {
    try {
      CairnConfig config = options.load();
      System.out.println("configuration is valid: gRPC " + config.grpc().host() + ":" + config.grpc().port()
          + ", HTTP " + config.http().host() + ":" + config.http().port() + ", data " + config.storage().dataDir()
          + ", fronts " + config.front().instances() + ", readers " + config.storage().readers());
      return 0;
    } catch (ConfigException e) {
      System.err.println("configuration has " + e.errors().size() + " error(s):");
      e.errors().forEach(line -> System.err.println("  " + line));
      return 2;
    }
  }
}
