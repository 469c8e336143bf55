package io.cairn.snapshot;

import io.cairn.TestServer;
import io.cairn.cli.SnapshotCommand;
import io.cairn.proto.v1.AdminServiceGrpcClient;
import io.cairn.proto.v1.CreateSnapshotRequest;
import io.cairn.proto.v1.KeyValue;
import io.cairn.proto.v1.ListSnapshotsRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.Snapshot;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.cairn.Queries.get;
import static io.cairn.Queries.range;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Snapshots of a real server: consistency under writes, restore, corruption, retention, upload, HTTP, metrics. */
class SnapshotTest {

  @TempDir
  Path tmp;

  private static Snapshot create(TestServer server) throws Exception {
    return server.call(AdminServiceGrpcClient.CreateSnapshot, CreateSnapshotRequest.getDefaultInstance()).ok();
  }

  /** Writes keys one after another until told to stop, recording each acknowledged write's revision. */
  private static Future<Void> writer(TestServer server, String name, Map<String, Long> acked, AtomicBoolean stop,
                                     int n) {
    if (stop.get()) {
      return Future.succeededFuture();
    }
    String key = name + "-" + String.format("%05d", n);
    return server.callAsync(QueryServiceGrpcClient.ExecuteQuery, request(set("snap", key, "v" + n)), 0)
        .compose(reply -> {
          acked.put(key, reply.ok().getHeader().getRevision());
          return writer(server, name, acked, stop, n + 1);
        });
  }

  @Test
  void aSnapshotUnderConcurrentWritesRestoresExactlyItsRevision() throws Exception {
    Map<String, Long> acked = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    Snapshot snapshot;
    Path file = tmp.resolve("copy.snap");
    try (TestServer server = TestServer.start()) {
      List<Future<Void>> writers = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        writers.add(writer(server, "w" + w, acked, stop, 0));
      }
      server.awaitMetric("cairn_storage_revision", v -> v >= 500);
      snapshot = create(server);
      server.awaitMetric("cairn_storage_revision", v -> v >= snapshot.getRevision() + 300);
      stop.set(true);
      await(Future.join(writers));
      Files.copy(Path.of(snapshot.getPath()), file);
    }
    long r = snapshot.getRevision();
    assertThat(acked.values()).anyMatch(rev -> rev > r).anyMatch(rev -> rev <= r);
    assertThat(snapshot.getKeyCount()).isEqualTo(acked.values().stream().filter(rev -> rev <= r).count());

    Path restored = tmp.resolve("restored");
    SnapshotCommand.restore(file, restored, false, SnapshotFile.Progress.NONE, SnapshotFile.Progress.NONE);
    try (TestServer server = TestServer.start(restored)) {
      QueryResponse all = server.call(QueryServiceGrpcClient.ExecuteQuery, request(range("snap", "", "", 0))).ok();
      assertThat(all.getHeader().getRevision()).as("the restored store is at the snapshot's revision").isEqualTo(r);
      Map<String, Long> restoredKeys = all.getResult().getRange().getKvsList().stream()
          .collect(Collectors.toMap(kv -> kv.getKey().toStringUtf8(), KeyValue::getModRevision));
      Map<String, Long> expected = acked.entrySet().stream().filter(e -> e.getValue() <= r)
          .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
      assertThat(restoredKeys).as("every write up to the snapshot, with its revision, and none after")
          .isEqualTo(expected);
      QueryResponse next = server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("snap", "new", "x"))).ok();
      assertThat(next.getHeader().getRevision()).as("revisions go on from the snapshot's").isEqualTo(r + 1);
    }
  }

  @Test
  void corruptedTruncatedOrForeignFilesAreRefusedAndNothingIsRestored() throws Exception {
    Path good = tmp.resolve("good.snap");
    try (TestServer server = TestServer.start()) {
      for (int i = 0; i < 200; i++) {
        server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("c", "k" + i, "value " + i))).ok();
      }
      Files.copy(Path.of(create(server).getPath()), good);
    }
    assertThat(SnapshotFile.verify(good, SnapshotFile.Progress.NONE).header().keyCount()).isEqualTo(200);
    byte[] bytes = Files.readAllBytes(good);

    byte[] flipped = bytes.clone();
    flipped[bytes.length / 2] ^= 0x40;
    assertRefused(flipped, "checksum mismatch: the file is corrupted (a byte was changed or lost)");
    byte[] flippedHeader = bytes.clone();
    flippedHeader[20] ^= 0x01;
    assertRefused(flippedHeader, "checksum mismatch: the file is corrupted (a byte was changed or lost)");
    assertRefused(java.util.Arrays.copyOf(bytes, bytes.length - 7),
        "truncated: the header promises " + bytes.length + " bytes, the file has " + (bytes.length - 7));
    assertRefused(java.util.Arrays.copyOf(bytes, 50), "truncated: the file has 50 bytes; a snapshot has at "
        + "least 116");
    byte[] foreign = bytes.clone();
    foreign[0] = 'X';
    assertRefused(foreign, "not a Cairn snapshot: the file does not start with the snapshot magic");
    byte[] extended = java.util.Arrays.copyOf(bytes, bytes.length + 10);
    assertRefused(extended, "10 unexpected bytes after the end of the snapshot");
  }

  private void assertRefused(byte[] content, String message) throws Exception {
    Path bad = Files.createTempFile(tmp, "bad", ".snap");
    Files.write(bad, content);
    assertThatThrownBy(() -> SnapshotFile.verify(bad, SnapshotFile.Progress.NONE))
        .isInstanceOf(SnapshotException.class).hasMessage(message);
    Path target = tmp.resolve("target-" + bad.getFileName());
    assertThatThrownBy(() -> SnapshotCommand.restore(bad, target, false, SnapshotFile.Progress.NONE,
        SnapshotFile.Progress.NONE)).hasMessage(message);
    assertThat(target).doesNotExist();
  }

  @Test
  void uploadRetentionKeepsTheNewestCopiesAndLeavesOtherFilesAlone() throws Exception {
    Path upload = Files.createDirectory(tmp.resolve("upload-retained"));
    Path foreign = Files.writeString(upload.resolve("operator-notes.snap"), "not Cairn's");
    try (TestServer server = TestServer.start("snapshot.upload.dir=" + upload, "snapshot.upload.retain=2")) {
      List<Snapshot> taken = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("upret", "k" + i, "v"))).ok();
        taken.add(create(server));
      }
      try (Stream<Path> files = Files.list(upload)) {
        assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(
            taken.get(3).getName(), taken.get(2).getName(), foreign.getFileName().toString());
      }
      assertThat(server.call(AdminServiceGrpcClient.ListSnapshots, ListSnapshotsRequest.getDefaultInstance()).ok()
          .getSnapshotsList()).as("snapshot.retain is separate").hasSize(4);
    }
  }

  @Test
  void retentionKeepsTheNewestAndUploadsReceiveWholeFiles() throws Exception {
    Path upload = Files.createDirectory(tmp.resolve("upload"));
    try (TestServer server = TestServer.start("snapshot.retain=2", "snapshot.upload.dir=" + upload)) {
      List<Snapshot> taken = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("ret", "k" + i, "v"))).ok();
        taken.add(create(server));
      }
      List<Snapshot> listed = server.call(AdminServiceGrpcClient.ListSnapshots,
          ListSnapshotsRequest.getDefaultInstance()).ok().getSnapshotsList();
      assertThat(listed).extracting(Snapshot::getName)
          .containsExactly(taken.get(3).getName(), taken.get(2).getName());
      try (Stream<Path> files = Files.list(server.dataDir().resolve("snapshots"))) {
        assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrder(taken.get(3).getName(), taken.get(2).getName());
      }
      try (Stream<Path> files = Files.list(upload)) {
        assertThat(files.map(p -> p.getFileName().toString())).as("every snapshot, and no partial file")
            .containsExactlyInAnyOrderElementsOf(taken.stream().map(Snapshot::getName).toList());
      }
      for (Snapshot kept : listed) {
        assertThat(Files.readAllBytes(upload.resolve(kept.getName())))
            .isEqualTo(Files.readAllBytes(Path.of(kept.getPath())));
      }
      assertThat(server.metric("cairn_snapshot_kept")).isEqualTo(2);
      assertThat(server.metric("cairn_snapshot_taken_total")).isEqualTo(4);
      assertThat(server.metric("cairn_snapshot_last_size_bytes")).isEqualTo(taken.get(3).getSizeBytes());
      assertThat(server.metric("cairn_snapshot_last_success_timestamp_seconds")).isPositive();
      assertThat(server.metric("cairn_snapshot_failures_total")).isZero();
    }
  }

  @Test
  void whatACrashMidSnapshotLeftIsRemovedAtStartAndNeverListed() throws Exception {
    Path dataDir = tmp.resolve("crashed");
    Path snapshots = Files.createDirectories(dataDir.resolve("snapshots"));
    Path half = Files.writeString(snapshots.resolve(".cairn-20261121T000000000Z-r9.snap.partial"), "half a file");
    Path transfer = Files.createDirectories(snapshots.resolve("transfer"));
    Path staleTransfer = Files.writeString(transfer.resolve("cairn-20261121T000000000Z-r9.snap"), "old transfer");
    try (TestServer server = TestServer.start(dataDir)) {
      assertThat(half).doesNotExist();
      assertThat(staleTransfer).doesNotExist();
      assertThat(server.call(AdminServiceGrpcClient.ListSnapshots, ListSnapshotsRequest.getDefaultInstance()).ok()
          .getSnapshotsList()).isEmpty();
    }
  }

  @Test
  void aDownloadTheClientAbandonsIsCleanedUp() throws Exception {
    try (TestServer server = TestServer.start()) {
      java.util.Random random = new java.util.Random(7);
      for (int b = 0; b < 20; b++) {
        List<io.cairn.proto.v1.Query> sets = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          byte[] value = new byte[4096];
          random.nextBytes(value);
          sets.add(io.cairn.proto.v1.Query.newBuilder().setSet(io.cairn.proto.v1.SetQuery.newBuilder()
              .setCollection("big").setKey(com.google.protobuf.ByteString.copyFromUtf8("k" + b + "-" + i))
              .setValue(com.google.protobuf.ByteString.copyFrom(value))).build());
        }
        server.call(QueryServiceGrpcClient.ExecuteBatch, io.cairn.Queries.batch(
            sets.toArray(io.cairn.proto.v1.Query[]::new))).ok();
      }
      io.vertx.grpc.client.GrpcClient client = server.newClient();
      io.vertx.core.Promise<Void> firstChunk = io.vertx.core.Promise.promise();
      client.request(server.grpcAddress(), AdminServiceGrpcClient.DownloadSnapshot).onSuccess(call -> {
        call.end(io.cairn.proto.v1.DownloadSnapshotRequest.getDefaultInstance());
        call.response().onSuccess(response -> {
          response.pause();
          response.handler(chunk -> { });
          firstChunk.tryComplete();
          server.clientVertx().setTimer(1, id -> call.cancel());
        });
      });
      await(firstChunk.future());
      server.awaitMetric("cairn_rpc_requests_total{code=\"CANCELLED\",method=\"cairn.v1.AdminService/DownloadSnapshot\"}",
          v -> v == 1);
      try (Stream<Path> left = Files.list(server.dataDir().resolve("snapshots").resolve("transfer"))) {
        assertThat(left).as("the abandoned transfer file is deleted").isEmpty();
      }
      client.close();
    }
  }

  @Test
  void aFailingUploadIsCountedAndTheSnapshotIsStillKept() throws Exception {
    Path notADirectory = Files.writeString(tmp.resolve("plain-file"), "x");
    try (TestServer server = TestServer.start("snapshot.upload.dir=" + notADirectory)) {
      Snapshot snapshot = create(server);
      assertThat(Path.of(snapshot.getPath())).exists();
      assertThat(server.metric("cairn_snapshot_upload_failures_total")).isEqualTo(1);
      assertThat(server.metric("cairn_snapshot_failures_total")).isZero();
    }
  }

  @Test
  void periodicSnapshotsAreTakenOnTheirOwn() throws Exception {
    try (TestServer server = TestServer.start("snapshot.interval=1s", "snapshot.retain=1")) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("p", "k", "v"))).ok();
      assertThat(server.awaitMetric("cairn_snapshot_taken_total", v -> v >= 2)).isGreaterThanOrEqualTo(2);
      assertThat(server.awaitMetric("cairn_snapshot_kept", v -> v == 1)).isEqualTo(1);
    }
  }

  @Test
  void theOpsPortTakesListsAndDeletesSnapshots() throws Exception {
    try (TestServer server = TestServer.start()) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("h", "k", "v"))).ok();
      WebClient web = WebClient.create(server.clientVertx());
      HttpResponse<Buffer> created = await(web.post(server.httpPort(), "127.0.0.1", "/admin/snapshots").send());
      assertThat(created.statusCode()).isEqualTo(201);
      JsonObject info = created.bodyAsJsonObject();
      assertThat(info.getLong("revision")).isEqualTo(2); // a new store is at revision 1, as etcd's
      assertThat(info.getLong("keys")).isEqualTo(1);
      String name = info.getString("name");

      JsonObject list = await(web.get(server.httpPort(), "127.0.0.1", "/admin/snapshots").send()).bodyAsJsonObject();
      assertThat(list.getJsonArray("snapshots").getJsonObject(0).getString("name")).isEqualTo(name);

      HttpResponse<Buffer> deleted = await(web.delete(server.httpPort(), "127.0.0.1", "/admin/snapshots/" + name)
          .send());
      assertThat(deleted.statusCode()).isEqualTo(200);
      assertThat(Path.of(info.getString("path"))).doesNotExist();
      HttpResponse<Buffer> again = await(web.delete(server.httpPort(), "127.0.0.1", "/admin/snapshots/" + name)
          .send());
      assertThat(again.statusCode()).isEqualTo(404);
      assertThat(again.bodyAsJsonObject().getString("message")).startsWith("no snapshot named " + name);
      HttpResponse<Buffer> odd = await(web.delete(server.httpPort(), "127.0.0.1", "/admin/snapshots/..%2Fdb")
          .send());
      assertThat(odd.statusCode()).isEqualTo(400);
    }
  }

  @Test
  void aRestoreDoesNotOverwriteAnExistingDataDirectoryUnlessForced() throws Exception {
    Path file = tmp.resolve("s.snap");
    Path existing = tmp.resolve("existing");
    try (TestServer server = TestServer.start()) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("f", "from-snapshot", "1"))).ok();
      Files.copy(Path.of(create(server).getPath()), file);
    }
    try (TestServer server = TestServer.start(existing)) {
      server.call(QueryServiceGrpcClient.ExecuteQuery, request(set("f", "old", "1"))).ok();
    }
    assertThatThrownBy(() -> SnapshotCommand.restore(file, existing, false, SnapshotFile.Progress.NONE,
        SnapshotFile.Progress.NONE)).hasMessageContaining("is not empty");
    SnapshotCommand.restore(file, existing, true, SnapshotFile.Progress.NONE, SnapshotFile.Progress.NONE);
    try (TestServer server = TestServer.start(existing)) {
      assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("f", "from-snapshot"))).ok()
          .getResult().getGet().getFound()).isTrue();
      assertThat(server.call(QueryServiceGrpcClient.ExecuteQuery, request(get("f", "old"))).ok()
          .getResult().getGet().getFound()).isFalse();
    }
    try (Stream<Path> left = Files.list(existing)) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".restore-"));
    }
  }
}
