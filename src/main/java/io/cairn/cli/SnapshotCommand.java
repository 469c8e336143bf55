package io.cairn.cli;

import com.google.protobuf.ByteString;
import io.cairn.CairnServer;
import io.cairn.front.GrpcStatusMessage;
import io.cairn.proto.v1.AdminServiceGrpcClient;
import io.cairn.proto.v1.DownloadSnapshotRequest;
import io.cairn.proto.v1.SnapshotChunk;
import io.cairn.snapshot.SnapshotException;
import io.cairn.snapshot.SnapshotFile;
import io.cairn.storage.MvccStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** {@code cairn snapshot status|restore|save}: snapshot files, offline or against a running server. */
@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Inspect, restore and save snapshots.",
    subcommands = {SnapshotCommand.Status.class, SnapshotCommand.Restore.class, SnapshotCommand.Save.class})
public final class SnapshotCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    System.err.println("name a subcommand: status, restore or save (cairn snapshot --help)");
    return 2;
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Check a snapshot file end to end and describe it; exit 1 when it is not usable.")
  public static final class Status implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the snapshot file")
    Path file;

    @Override
    public Integer call() {
      try {
        ProgressBar bar = new ProgressBar("checking");
        SnapshotFile.Verified verified = SnapshotFile.verify(file, bar);
        bar.finish();
        describe(file, verified);
        return 0;
      } catch (IOException e) {
        System.out.println("file:          " + file.toAbsolutePath());
        System.out.println("checksum:      BAD: " + e.getMessage());
        return 1;
      }
    }
  }

  static void describe(Path file, SnapshotFile.Verified v) {
    SnapshotFile.Header h = v.header();
    System.out.println("file:          " + file.toAbsolutePath());
    System.out.println("format:        Cairn snapshot v" + h.formatVersion() + ", "
        + h.compression().name().toLowerCase());
    System.out.println("revision:      " + h.revision());
    System.out.println("applied index: " + h.appliedIndex());
    System.out.println("compacted at:  " + h.compactRevision());
    System.out.println("keys:          " + h.keyCount());
    System.out.println("entries:       " + h.entryCount());
    System.out.println("cluster id:    " + Long.toHexString(h.clusterId()) + ", member " + Long.toHexString(h.memberId()));
    System.out.println("created:       " + Instant.ofEpochMilli(h.createdMillis()));
    System.out.println("size:          " + v.fileSize() + " bytes (" + ProgressBar.size(v.fileSize()) + ")");
    System.out.println("checksum:      OK");
    if (v.etcdTrailer()) {
      System.out.println("etcd trailer:  sha256 OK (saved by an etcd client)");
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = "Create a data directory from a snapshot file (a Cairn snapshot, or one etcdctl saved from "
          + "Cairn). The file is checked whole first; nothing is written unless it is intact.")
  public static final class Restore implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "the snapshot file")
    Path file;

    @Option(names = "--data-dir", required = true, description = "the data directory to create")
    Path dataDir;

    @Option(names = "--force", description = "replace the database of a data directory that is not empty")
    boolean force;

    @Override
    public Integer call() {
      try {
        SnapshotFile.Verified v = restore(file, dataDir, force, new ProgressBar("checking"),
            new ProgressBar("restoring"));
        System.out.println("restored revision " + v.header().revision() + " (" + v.header().keyCount() + " keys) into "
            + dataDir.toAbsolutePath() + "; start it with: cairn start --data-dir " + dataDir);
        return 0;
      } catch (IOException e) {
        System.err.println("restore refused: " + e.getMessage());
        return 1;
      }
    }
  }

  /**
   * Restores {@code file} into {@code dataDir}: checks the directory, then the whole file, then writes the
   * database in a staging directory beside it and renames it into place. On any failure the data directory is as
   * it was. Blocking.
   */
  public static SnapshotFile.Verified restore(Path file, Path dataDir, boolean force, SnapshotFile.Progress checking,
                                              SnapshotFile.Progress restoring) throws IOException {
    Path dir = dataDir.toAbsolutePath().normalize();
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IOException(dir + " is a file, not a directory");
    }
    if (!force && Files.isDirectory(dir)) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IOException(dir + " is not empty; restore into a new directory, or pass --force to replace "
              + "its database");
        }
      }
    }
    SnapshotFile.Verified verified = SnapshotFile.verify(file, checking);
    finish(checking);
    Files.createDirectories(dir);
    Path staging = Files.createTempDirectory(dir, ".restore-");
    try {
      MvccStore.restore(staging, into -> SnapshotFile.readRecords(file, verified.header(), into, restoring));
      finish(restoring);
      Path db = dir.resolve("db");
      if (Files.exists(db)) {
        deleteRecursively(db);
      }
      SnapshotFile.moveIntoPlace(staging.resolve("db"), db);
      return verified;
    } catch (RuntimeException e) {
      throw new SnapshotException("restore failed: " + e.getMessage(), e);
    } finally {
      deleteRecursively(staging);
    }
  }

  private static void finish(SnapshotFile.Progress progress) {
    if (progress instanceof ProgressBar bar) {
      bar.finish();
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Command(name = "save", mixinStandardHelpOptions = true,
      description = "Take a fresh snapshot on a running server and save it to FILE (written whole or not at all).")
  public static final class Save implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "where to save it")
    Path file;

    @Option(names = "--endpoint", defaultValue = "127.0.0.1:7379",
        description = "the server's gRPC address, HOST:PORT (default: ${DEFAULT-VALUE})")
    String endpoint;

    @Override
    public Integer call() {
      int colon = endpoint.lastIndexOf(':');
      if (colon <= 0) {
        System.err.println("--endpoint: expected HOST:PORT, got \"" + endpoint + "\"");
        return 2;
      }
      Path target = file.toAbsolutePath().normalize();
      if (Files.exists(target)) {
        System.err.println(target + " already exists; choose another name or remove it first");
        return 1;
      }
      Vertx vertx = Vertx.vertx(CairnServer.vertxOptions());
      GrpcClient client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(4 << 20));
      Path partial = SnapshotFile.partialOf(target);
      ProgressBar bar = new ProgressBar("saving");
      try {
        SocketAddress address = SocketAddress.inetSocketAddress(Integer.parseInt(endpoint.substring(colon + 1)),
            endpoint.substring(0, colon));
        download(vertx, client, address, partial, bar).toCompletionStage().toCompletableFuture()
            .get(24, TimeUnit.HOURS);
        bar.finish();
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE)) {
          channel.force(true);
        }
        SnapshotFile.moveIntoPlace(partial, target);
        describe(target, SnapshotFile.verify(target, SnapshotFile.Progress.NONE));
        return 0;
      } catch (Exception e) {
        bar.finish();
        Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
            ? e.getCause() : e;
        System.err.println("snapshot save failed: " + cause.getMessage());
        try {
          Files.deleteIfExists(partial);
        } catch (IOException ignored) {
          // nothing more to clean
        }
        return 1;
      } finally {
        client.close();
        vertx.close();
      }
    }
  }

  private static Future<Void> download(Vertx vertx, GrpcClient client, SocketAddress address, Path partial,
                                       ProgressBar bar) {
    return vertx.fileSystem().open(partial.toString(), new OpenOptions().setWrite(true).setCreateNew(true))
        .compose(out -> client.request(address, AdminServiceGrpcClient.DownloadSnapshot).compose(call -> {
          call.end(DownloadSnapshotRequest.getDefaultInstance());
          return call.response().compose(response -> {
            Promise<Void> done = Promise.promise();
            long[] total = {0};
            long[] received = {0};
            response.handler((SnapshotChunk chunk) -> {
              if (chunk.getTotalSize() > 0) {
                total[0] = chunk.getTotalSize();
              }
              ByteString data = chunk.getData();
              received[0] += data.size();
              out.write(Buffer.buffer(data.toByteArray()));
              bar.advance(received[0], total[0]);
              if (out.writeQueueFull()) {
                response.pause();
                out.drainHandler(v -> response.resume());
              }
            });
            response.exceptionHandler(done::tryFail);
            response.endHandler(v -> {
              if (response.status() != io.vertx.grpc.common.GrpcStatus.OK) {
                done.tryFail(response.status() + ": " + GrpcStatusMessage.received(response));
              } else if (received[0] != total[0]) {
                done.tryFail("the server sent " + received[0] + " of " + total[0] + " bytes");
              } else {
                done.tryComplete();
              }
            });
            return done.future();
          });
        }).eventually(out::close));
  }
}
