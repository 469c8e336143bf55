package io.cairn.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots end to end with real tools: etcdctl 3.4 saves one from the fat jar, the cairn CLI checks it, restores
 * it and a server starts on it; the CLI saves one from a running server too.
 */
class SnapshotIT {

  @TempDir
  Path tmp;

  private record Result(int exit, String out) {}

  private static Result etcdctl(int port, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(EtcdctlIT.etcdctlBinary(), "--endpoints=127.0.0.1:" + port,
        "--command-timeout=30s"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  private static Result cairn(String... args) throws Exception {
    try (CairnProcess p = CairnProcess.run(args)) {
      int exit = p.waitForExit();
      return new Result(exit, p.text());
    }
  }

  @Test
  void etcdctlSnapshotSaveRestoresWithTheCairnCliAndAServerStartsOnIt() throws Exception {
    assertThat(EtcdctlIT.etcdctlBinary()).as("etcdctl must be installed (Debian package etcd-client)").isNotNull();
    Path etcdFile = tmp.resolve("etcd.db");
    Path cairnFile = tmp.resolve("cairn.snap");
    Path restored = tmp.resolve("restored");
    try (CairnProcess server = CairnProcess.startServer(tmp.resolve("data"))) {
      int port = server.grpcPort();
      for (int i = 0; i < 50; i++) { // revisions 2 to 51: a new store is at revision 1, as etcd's
        assertThat(etcdctl(port, "put", "snap/k" + i, "value-" + i).exit()).isZero();
      }
      Result saved = etcdctl(port, "snapshot", "save", etcdFile.toString());
      assertThat(saved.exit()).as(saved.out()).isZero();
      assertThat(saved.out()).contains("Snapshot saved at " + etcdFile);
      assertThat(etcdctl(port, "put", "snap/after", "not in the snapshot").exit()).isZero();

      Result cliSave = cairn("snapshot", "save", cairnFile.toString(), "--endpoint", "127.0.0.1:" + port);
      assertThat(cliSave.exit()).as(cliSave.out()).isZero();
      assertThat(cliSave.out()).contains("revision:      52", "keys:          51", "checksum:      OK");
    }

    Result status = cairn("snapshot", "status", etcdFile.toString());
    assertThat(status.exit()).as(status.out()).isZero();
    assertThat(status.out()).contains("revision:      51", "keys:          50", "checksum:      OK",
        "etcd trailer:  sha256 OK");

    Result restore = cairn("snapshot", "restore", etcdFile.toString(), "--data-dir", restored.toString());
    assertThat(restore.exit()).as(restore.out()).isZero();
    assertThat(restore.out()).contains("restored revision 51 (50 keys)");
    Result again = cairn("snapshot", "restore", etcdFile.toString(), "--data-dir", restored.toString());
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.out()).contains("is not empty");

    try (CairnProcess server = CairnProcess.startServer(restored)) {
      Result keys = etcdctl(server.grpcPort(), "get", "snap/", "--prefix", "--keys-only");
      assertThat(keys.out().lines().filter(l -> !l.isBlank())).hasSize(50).doesNotContain("snap/after");
      assertThat(etcdctl(server.grpcPort(), "get", "snap/k7", "--print-value-only").out()).isEqualTo("value-7");
      assertThat(etcdctl(server.grpcPort(), "get", "snap/k7", "--rev=4", "--print-value-only").out())
          .as("history came along").isEmpty();
      assertThat(etcdctl(server.grpcPort(), "get", "snap/k2", "--rev=4", "--print-value-only").out())
          .isEqualTo("value-2");
    }

    byte[] bytes = Files.readAllBytes(etcdFile);
    bytes[bytes.length / 2] ^= 1;
    Path corrupt = Files.write(tmp.resolve("corrupt.db"), bytes);
    Result refused = cairn("snapshot", "restore", corrupt.toString(), "--data-dir", tmp.resolve("never").toString());
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.out()).contains("restore refused: checksum mismatch");
    assertThat(tmp.resolve("never")).doesNotExist();
    Result badStatus = cairn("snapshot", "status", corrupt.toString());
    assertThat(badStatus.exit()).isEqualTo(1);
    assertThat(badStatus.out()).contains("checksum:      BAD: checksum mismatch");
  }
}
