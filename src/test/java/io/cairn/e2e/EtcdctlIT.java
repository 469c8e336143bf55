package io.cairn.e2e;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** etcd's own command-line client, etcdctl 3.4, unchanged against the fat jar. */
class EtcdctlIT {

  @RegisterExtension
  static final SharedCairn cairn = new SharedCairn("cairn-etcdctl");

  @BeforeAll
  static void start() throws Exception {
    assertThat(etcdctlBinary()).as("etcdctl must be installed (Debian package etcd-client); .ci/run installs it")
        .isNotNull();
  }

  static String etcdctlBinary() {
    Path etcdctl = CairnProcess.onPath("etcdctl");
    return etcdctl == null ? null : etcdctl.toString();
  }

  record Result(int exit, String out) {}

  /** etcdctl with these arguments, at the server's gRPC port unless they name {@code --endpoints=} themselves. */
  static ProcessBuilder command(String... args) {
    List<String> command = new ArrayList<>(List.of(etcdctlBinary(), "--command-timeout=10s"));
    if (List.of(args).stream().noneMatch(arg -> arg.startsWith("--endpoints="))) {
      command.add("--endpoints=127.0.0.1:" + cairn.grpcPort());
    }
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    return pb;
  }

  static Result etcdctl(String... args) throws Exception {
    return etcdctlWithInput(null, args);
  }

  static Result etcdctlWithInput(String input, String... args) throws Exception {
    Process p = command(args).start();
    if (input != null) {
      p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("etcdctl %s finished", List.of(args)).isTrue();
    return new Result(p.exitValue(), out);
  }

  static String ok(String... args) throws Exception {
    Result r = etcdctl(args);
    assertThat(r.exit()).as("etcdctl %s: %s", List.of(args), r.out()).isZero();
    return r.out();
  }

  static long revision() throws Exception {
    Matcher m = Pattern.compile("\"revision\":(\\d+)").matcher(ok("get", "x", "-w", "json"));
    assertThat(m.find()).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void putGetDeleteWithOptions() throws Exception {
    assertThat(ok("put", "kv/a", "1")).isEqualTo("OK");
    ok("put", "kv/b", "2");
    ok("put", "kv/c", "3");
    assertThat(ok("get", "kv/a")).isEqualTo("kv/a\n1");
    assertThat(ok("get", "kv/", "--prefix", "--keys-only").lines().filter(l -> !l.isEmpty()))
        .containsExactly("kv/a", "kv/b", "kv/c");
    assertThat(ok("get", "kv/", "--prefix", "--limit=2", "--print-value-only")).isEqualTo("1\n2");
    assertThat(ok("get", "kv/", "--prefix", "--sort-by=KEY", "--order=DESCEND", "--print-value-only"))
        .isEqualTo("3\n2\n1");
    assertThat(ok("get", "kv/", "--prefix", "--limit=1", "-w", "json")).contains("\"more\":true", "\"count\":3");
    assertThat(ok("get", "kv/a", "kv/c", "--print-value-only")).isEqualTo("1\n2");
    long before = revision();
    ok("put", "kv/a", "changed");
    assertThat(ok("get", "kv/a", "--rev=" + before, "--print-value-only")).isEqualTo("1");
    assertThat(ok("put", "kv/a", "again", "--prev-kv")).isEqualTo("OK\nkv/a\nchanged");
    assertThat(ok("del", "kv/", "--prefix", "--prev-kv")).startsWith("3\nkv/a\nagain");
    assertThat(ok("get", "kv/", "--prefix")).isEmpty();
  }

  @Test
  void interactiveTxn() throws Exception {
    ok("put", "tx/user", "alice");
    String input = "value(\"tx/user\") = \"alice\"\n\nput tx/owner alice\nget tx/user\n\nput tx/owner nobody\n\n";
    Result r = etcdctlWithInput(input, "txn", "-i");
    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out()).contains("SUCCESS", "OK", "tx/user\nalice");
    assertThat(ok("get", "tx/owner", "--print-value-only")).isEqualTo("alice");

    Result failed = etcdctlWithInput("value(\"tx/user\") = \"bob\"\n\n\nput tx/owner nobody\n\n", "txn", "-i");
    assertThat(failed.out()).contains("FAILURE");
    assertThat(ok("get", "tx/owner", "--print-value-only")).isEqualTo("nobody");
  }

  @Test
  void watchReplaysFromRevisionAndFollowsPrefix() throws Exception {
    long start = revision() + 1;
    ok("put", "wt/a", "1");
    ok("put", "wt/b", "2");
    Process watch = command("watch", "wt/", "--prefix", "--prev-kv", "--rev=" + start).start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(watch.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
        }
      } catch (Exception ignored) {
        // the process was stopped
      }
    });
    reader.setDaemon(true);
    reader.start();
    try {
      ok("put", "wt/a", "3");
      ok("del", "wt/b");
      List<String> seen = new ArrayList<>();
      while (seen.size() < 13) {
        String line = lines.poll(15, TimeUnit.SECONDS);
        assertThat(line).as("watch output so far: %s", seen).isNotNull();
        seen.add(line);
      }
      assertThat(seen).containsExactly("PUT", "wt/a", "1", "PUT", "wt/b", "2",
          "PUT", "wt/a", "1", "wt/a", "3",
          "DELETE", "wt/b");
    } finally {
      watch.destroy();
      watch.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void leaseLifecycle() throws Exception {
    Matcher granted = Pattern.compile("lease ([0-9a-f]+) granted with TTL\\(60s\\)").matcher(ok("lease", "grant", "60"));
    assertThat(granted.find()).isTrue();
    String id = granted.group(1);
    ok("put", "ls/k", "v", "--lease=" + id);
    assertThat(ok("lease", "keep-alive", "--once", id)).isEqualTo("lease " + id + " keepalived with TTL(60)");
    assertThat(ok("lease", "timetolive", id, "--keys"))
        .matches("lease " + id + " granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[ls/k\\]\\)");
    assertThat(ok("lease", "list")).contains(id);
    assertThat(ok("lease", "revoke", id)).isEqualTo("lease " + id + " revoked");
    assertThat(ok("get", "ls/k")).isEmpty();
    assertThat(ok("lease", "timetolive", id)).isEqualTo("lease " + id + " already expired");
  }

  @Test
  void compactionMakesOldRevisionsUnreadable() throws Exception {
    ok("put", "cp/k", "1");
    long old = revision();
    ok("put", "cp/k", "2");
    long now = revision();
    assertThat(ok("compact", String.valueOf(now))).isEqualTo("compacted revision " + now);
    Result r = etcdctl("get", "cp/k", "--rev=" + old);
    assertThat(r.exit()).isNotZero();
    assertThat(r.out()).contains("etcdserver: mvcc: required revision has been compacted");
    assertThat(ok("get", "cp/k", "--print-value-only")).isEqualTo("2");
  }

  @Test
  void checkDatascaleMeasuresTheServersMemory() throws Exception {
    // writes 10,000 keys of 1 KiB from 50 clients and reads process_resident_memory_bytes from the gRPC port's
    // /metrics before and after, as it does from etcd's client port
    String out = ok("check", "datascale", "--load=s");
    assertThat(out).contains("PASS: Approximate system memory used").doesNotContain("FAIL");
    assertThat(ok("get", "--prefix", "/etcdctl-check-datascale/", "--keys-only")).isEmpty();
  }

  @Test
  void endpointHealthStatusAndMemberList() throws Exception {
    assertThat(ok("endpoint", "health")).contains("127.0.0.1:" + cairn.grpcPort() + " is healthy");
    String status = ok("endpoint", "status", "-w", "json");
    assertThat(status).contains("\"version\":\"3.4.0\"", "\"leader\":");
    String members = ok("member", "list");
    assertThat(members).contains("started", "http://127.0.0.1:" + cairn.grpcPort());
    // as etcd's, the member list's header names the member and the term, no revision
    assertThat(ok("member", "list", "-w", "json")).contains("\"raft_term\":").doesNotContain("\"revision\"");
  }

  /**
   * Endpoints written as URLs, as etcd's docs write them, and the client URLs {@code --cluster} takes from the
   * member list: the Go client dials them for maintenance calls with the whole URL as the HTTP/2 authority, which
   * Vert.x alone resets with PROTOCOL_ERROR.
   */
  @Test
  void maintenanceAtEndpointsWrittenAsUrls() throws Exception {
    String url = "http://127.0.0.1:" + cairn.grpcPort();
    assertThat(ok("--endpoints=" + url, "endpoint", "status", "-w", "json")).contains("\"version\":\"3.4.0\"");
    assertThat(ok("endpoint", "status", "--cluster")).startsWith(url + ", ").contains("3.4.0");
    assertThat(ok("endpoint", "hashkv", "--cluster")).startsWith(url + ", ");
    assertThat(ok("--endpoints=" + url, "defrag")).isEqualTo("Finished defragmenting etcd member[" + url + "]");
  }
}
