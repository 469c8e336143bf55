package io.cairn.cli;

import io.cairn.CairnServer;
import io.cairn.LogSetup;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigException;
import io.cairn.storage.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sun.misc.Signal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts the server and runs until SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish
 * (bounded by {@code shutdown.timeout}), closes storage and exits 0. Configuration problems exit 2.
 */
@Command(name = "start", mixinStandardHelpOptions = true, description = "Start the server.")
public final class StartCommand implements java.util.concurrent.Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(StartCommand.class);

  @Mixin
  ConfigOptions options;

  @Override
  public Integer call() throws Exception {
    CairnConfig config;
    try {
      config = options.load();
    } catch (ConfigException e) {
      return refuse(e.errors());
    }
    LogSetup.apply(config.log());
    CairnServer server;
    try {
      server = CairnServer.start(config).toCompletionStage().toCompletableFuture().get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ConfigException ce) {
        return refuse(ce.errors());
      }
      if (e.getCause() instanceof StorageException se) {
        return refuse(java.util.List.of(se.key() + ": " + se.getMessage()));
      }
      LOG.error("Cairn failed to start", e.getCause());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable shutdown = () -> {
      LOG.info("stopping: no new connections; in-flight requests get up to {} ms", 
          config.shutdownTimeout().toMillis());
      try {
        server.stop().toCompletionStage().toCompletableFuture()
            .get(config.shutdownTimeout().toMillis() + 30_000, TimeUnit.MILLISECONDS);
        LOG.info("stopped cleanly");
      } catch (InterruptedException | ExecutionException | TimeoutException e) {
        LOG.error("stopping did not complete cleanly", e);
      }
      stopped.countDown();
    };
    Signal.handle(new Signal("TERM"), sig -> new Thread(shutdown, "cairn-shutdown").start());
    Signal.handle(new Signal("INT"), sig -> new Thread(shutdown, "cairn-shutdown").start());
    stopped.await();
    return 0;
  }

  private static int refuse(java.util.List<String> errors) {
    System.err.println("cairn: cannot start; the configuration has " + errors.size() + " error(s):");
    errors.forEach(line -> System.err.println("  " + line));
    return 2;
  }
}
