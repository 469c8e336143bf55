package io.cairn.e2e;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code etcd3} npm client, on grpc-js, unchanged against the fat jar: {@code src/test/npm/etcd3-judge.js}
 * must print what it prints against etcd 3.4 (recorded below), its locks, elections and software transactional
 * memory included. It recognises etcd's errors by their text, as grpc-js decodes it.
 */
class Etcd3NpmIT {

  private static final Path SOURCES = Path.of("src", "test", "npm");
  private static final Path JUDGE = Path.of("target", "etcd3-judge");

  @RegisterExtension
  static final SharedCairn cairn = new SharedCairn("cairn-etcd3");

  @BeforeAll
  static void start() throws Exception {
    for (String tool : List.of("node", "npm")) {
      assertThat(CairnProcess.onPath(tool))
          .as("%s must be installed (Debian packages nodejs and npm); .ci/run installs it", tool).isNotNull();
    }
    Files.createDirectories(JUDGE);
    for (String file : List.of("package.json", "package-lock.json", "etcd3-judge.js")) {
      Files.copy(SOURCES.resolve(file), JUDGE.resolve(file), StandardCopyOption.REPLACE_EXISTING);
    }
    Run install = run(JUDGE, 300, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts");
    assertThat(install.exit()).as("npm ci (the versions in package-lock.json): %s", install.out()).isZero();
  }

  @Test
  void theEtcd3ClientGetsWhatEtcdAnswers() throws Exception {
    Run judge = run(JUDGE, 120, "node", "etcd3-judge.js", "127.0.0.1:" + cairn.grpcPort());
    assertThat(judge.exit()).as(judge.out()).isZero();
    assertThat(judge.out().lines()).containsExactly(
        "put and get ok [\"1\",null]",
        "prefix reads ok [{\"kv/a\":\"1\",\"kv/b\":\"2\",\"kv/c\":\"3\"},[\"kv/c\",\"kv/b\"],3]",
        "txn ok [true,false,\"else\"]",
        "delete with previous values ok [\"kv/a=else\",\"kv/b=2\",\"kv/c=3\"]",
        "lease ok [\"v\",null]",
        "revoke twice ok \"revoked\"",
        "revoke of an unknown lease ERR EtcdLeaseInvalidError Lease 5 NOT_FOUND: etcdserver: requested lease "
            + "not found is expired or revoked",
        "watch ok [\"put w/1=a\",\"put w/1=b was a\",\"delete w/1\"]",
        "lock ok [\"EtcdLockFailedError\",\"ran under the lock\"]",
        "software transactional memory ok \"44\"",
        "election ok [\"first\",\"first\",\"proclaimed\",null]",
        "status and members ok [\"string\",1]");
  }

  private record Run(int exit, String out) {}

  /** Runs the command in {@code dir}, its output in a file there; stopped if it outlives the timeout. */
  private static Run run(Path dir, int timeoutSeconds, String... command) throws Exception {
    Path output = dir.resolve("output.txt");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
    p.getOutputStream().close();
    boolean finished = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly().waitFor();
    }
    String out = Files.readString(output, StandardCharsets.UTF_8);
    assertThat(finished).as("%s finished within %d s: %s", List.of(command), timeoutSeconds, out).isTrue();
    return new Run(p.exitValue(), out);
  }
}
