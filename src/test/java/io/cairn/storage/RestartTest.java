package io.cairn.storage;

import io.cairn.CairnServer;
import io.cairn.TestServer;
import com.google.protobuf.ByteString;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.MaintenanceGrpcClient;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.StatusRequest;
import io.cairn.proto.etcd.StatusResponse;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.cairn.Queries.get;
import static io.cairn.Queries.request;
import static io.cairn.Queries.set;
import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a server stored is there after a restart, revisions continue, and the identity is kept. */
class RestartTest {

  @TempDir
  Path dataDir;

  @Test
  void dataRevisionsAndIdentitySurviveARestart() throws Exception {
    long lastRevision;
    long clusterId;
    try (TestServer first = TestServer.start(dataDir)) {
      // a new store is at revision 1 and its first write gets 2, as etcd's (0 means "none" or "latest" to its clients)
      assertThat(first.call(QueryServiceGrpcClient.ExecuteQuery, request(get("durable", "k0"))).ok().getHeader()
          .getRevision()).isEqualTo(1);
      assertThat(first.call(KVGrpcClient.Range, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build())
          .ok().getHeader().getRevision()).isEqualTo(1);
      for (int i = 0; i < 20; i++) {
        first.call(QueryServiceGrpcClient.ExecuteQuery, request(set("durable", "k" + i, "v" + i))).ok();
      }
      QueryResponse last = first.call(QueryServiceGrpcClient.ExecuteQuery, request(set("durable", "k0", "again")))
          .ok();
      lastRevision = last.getHeader().getRevision();
      assertThat(lastRevision).isEqualTo(22);
      clusterId = last.getHeader().getClusterId();
      assertThat(last.getHeader().getRaftTerm()).as("the first start's term, as a new etcd member's").isEqualTo(2);
    }
    assertThat(new JsonObject(Files.readString(dataDir.resolve("cluster/identity.json"))).getString("member_id"))
        .isNotBlank();

    try (TestServer second = TestServer.start(dataDir)) {
      QueryResponse k0 = second.call(QueryServiceGrpcClient.ExecuteQuery, request(get("durable", "k0"))).ok();
      assertThat(k0.getResult().getGet().getKv().getValue().toStringUtf8()).isEqualTo("again");
      assertThat(k0.getResult().getGet().getKv().getVersion()).isEqualTo(2);
      assertThat(k0.getHeader().getRevision()).isEqualTo(lastRevision);
      assertThat(k0.getHeader().getClusterId()).isEqualTo(clusterId);
      assertThat(k0.getHeader().getRaftTerm()).as("each start is a new term, as a single etcd member's").isEqualTo(3);
      StatusResponse status = second.call(MaintenanceGrpcClient.Status, StatusRequest.getDefaultInstance()).ok();
      assertThat(status.getRaftTerm()).isEqualTo(3);
      assertThat(status.getHeader().getRaftTerm()).isEqualTo(3);
      for (int i = 1; i < 20; i++) {
        assertThat(second.call(QueryServiceGrpcClient.ExecuteQuery, request(get("durable", "k" + i))).ok()
            .getResult().getGet().getKv().getValue().toStringUtf8()).isEqualTo("v" + i);
      }
      QueryResponse next = second.call(QueryServiceGrpcClient.ExecuteQuery, request(set("durable", "new", "1")))
          .ok();
      assertThat(next.getHeader().getRevision()).isEqualTo(lastRevision + 1);
    }
  }

  @Test
  void aDataDirInUseByAnotherServerIsRefused() throws Exception {
    try (TestServer first = TestServer.start(dataDir)) {
      assertThatThrownBy(() -> await(CairnServer.start(TestServer.config(dataDir))))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("is in use by another Cairn process")
          .satisfies(e -> assertThat(((StorageException) e).key()).isEqualTo("storage.data-dir"));
      assertThat(first.call(QueryServiceGrpcClient.ExecuteQuery, request(set("still", "up", "1"))).status())
          .isEqualTo(io.vertx.grpc.common.GrpcStatus.OK);
    }
  }
}
