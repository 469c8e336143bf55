package io.cairn.e2e;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code target/cairn.jar} launched as a separate process on free ports; its output is kept for assertions. */
final class CairnProcess implements AutoCloseable {

  private static final Pattern STARTED = Pattern.compile("started: gRPC [^:]+:(\\d+), HTTP [^:]+:(\\d+)");

  final Process process;
  final List<String> output = new CopyOnWriteArrayList<>();
  private final CompletableFuture<int[]> ports = new CompletableFuture<>();
  private final Thread reader;

  private CairnProcess(Process process) {
    this.process = process;
    reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          output.add(line);
          Matcher m = STARTED.matcher(line);
          if (m.find()) {
            ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
          }
        }
      } catch (java.io.IOException ignored) {
        // the process went away
      }
      ports.completeExceptionally(new AssertionError("cairn exited before it was ready:\n"
          + String.join("\n", output)));
    }, "cairn-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** The executable {@code tool} in a directory of the PATH, or null when there is none. */
  static Path onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return Path.of(dir, tool);
      }
    }
    return null;
  }

  static Path jar() {
    return Path.of(System.getProperty("cairn.jar", "target/cairn.jar"));
  }

  /** Runs a CLI command to completion and returns its exit code; output lands in {@link #output}. */
  static CairnProcess run(String... args) throws Exception {
    return runWithJvmOptions(List.of(), args);
  }

  /** Like {@link #run}, with options for the JVM (heap size, say) before {@code -jar}. */
  static CairnProcess runWithJvmOptions(List<String> jvmOptions, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(javaBin()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar().toString()));
    command.addAll(List.of(args));
    return new CairnProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
  }

  /** Starts a server on free ports and waits until it reports that it is ready. */
  static CairnProcess startServer(Path dataDir, String... extra) throws Exception {
    return startServer(List.of(), dataDir, extra);
  }

  static CairnProcess startServer(List<String> jvmOptions, Path dataDir, String... extra) throws Exception {
    CairnProcess p = runWithJvmOptions(jvmOptions, serverArguments(dataDir, extra));
    p.ports.get(60, TimeUnit.SECONDS);
    return p;
  }

  private static String[] serverArguments(Path dataDir, String... extra) {
    List<String> args = new ArrayList<>(List.of("start", "--data-dir", dataDir.toString(), "--grpc-port", "0",
        "--http-port", "0", "--set", "front.instances=2", "--set", "storage.readers=2"));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  /** Starts a server whose process may hold at most {@code openFiles} file descriptors ({@code ulimit -n}). */
  static CairnProcess startServerWithFileLimit(int openFiles, Path dataDir, String... extra) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$@\"",
        "cairn", javaBin(), "-jar", jar().toString()));
    command.addAll(List.of(serverArguments(dataDir, extra)));
    CairnProcess p = new CairnProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    p.ports.get(60, TimeUnit.SECONDS);
    return p;
  }

  /** Starts a server through the launch script {@code bin/cairn}, with more environment, on free ports. */
  static CairnProcess startWithLaunchScript(Map<String, String> environment, Path dataDir, String... extra)
      throws Exception {
    List<String> command = new ArrayList<>(List.of("bin/cairn", "start", "--data-dir", dataDir.toString(),
        "--grpc-port", "0", "--http-port", "0"));
    command.addAll(List.of(extra));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("CAIRN_JAR", jar().toString());
    builder.environment().putAll(environment);
    CairnProcess p = new CairnProcess(builder.start());
    p.ports.get(60, TimeUnit.SECONDS);
    return p;
  }

  int grpcPort() {
    return ports.join()[0];
  }

  int httpPort() {
    return ports.join()[1];
  }

  int waitForExit() throws Exception {
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("cairn did not exit:\n" + String.join("\n", output));
    }
    reader.join(TimeUnit.SECONDS.toMillis(10)); // the reader ends at end of output: every line is in
    return process.exitValue();
  }

  String text() {
    return String.join("\n", output);
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * Stops the server as an operator would, with SIGTERM (the store closed, the JVM's exit hooks run), and kills it
   * only if it has not exited within 30 s.
   */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.toHandle().destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
