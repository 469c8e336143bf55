package io.cairn.e2e;

import io.cairn.TestServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One fat-jar server for all the tests of a class ({@code @RegisterExtension static}), on a data directory of its
 * own: started before them, stopped and its directory removed after them.
 */
final class SharedCairn implements BeforeAllCallback, AfterAllCallback {

  private final String dataDirPrefix;
  private Path dataDir;
  private CairnProcess server;

  SharedCairn(String dataDirPrefix) {
    this.dataDirPrefix = dataDirPrefix;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    dataDir = Files.createTempDirectory(dataDirPrefix);
    server = CairnProcess.startServer(dataDir);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (server != null) {
      server.close();
    }
    TestServer.deleteTree(dataDir);
  }

  int grpcPort() {
    return server.grpcPort();
  }
}
