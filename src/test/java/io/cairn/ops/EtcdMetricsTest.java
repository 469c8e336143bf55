package io.cairn.ops;

import com.google.protobuf.ByteString;
import io.cairn.TestServer;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.MaintenanceGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.StatusRequest;
import io.cairn.proto.etcd.StatusResponse;
import io.cairn.proto.etcd.WatchCreateRequest;
import io.cairn.proto.etcd.WatchGrpcClient;
import io.cairn.proto.etcd.WatchRequest;
import io.cairn.proto.etcd.WatchResponse;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * etcd's own metric names, which its dashboards and alerts query: gRPC calls by method and code, watch streams
 * open, membership, proposals, disk latencies, database size and client traffic.
 */
class EtcdMetricsTest {

  private static final String PUT = "grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
  private static final String WATCH =
      "grpc_method=\"Watch\",grpc_service=\"etcdserverpb.Watch\",grpc_type=\"bidi_stream\"";

  private static PutRequest put(String key, long lease) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))
        .setLease(lease).build();
  }

  /** Every sample of /metrics on the gRPC port, as etcd serves it there, by its name and labels as printed. */
  private static Map<String, Double> scrape(TestServer server) throws Exception {
    WebClient web = WebClient.create(server.clientVertx());
    try {
      String text = await(web.get(server.grpcPort(), "127.0.0.1", "/metrics").send()).bodyAsString();
      Map<String, Double> samples = new java.util.HashMap<>();
      for (String line : text.split("\n")) {
        if (!line.startsWith("#") && !line.isBlank()) {
          int space = line.lastIndexOf(' ');
          samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
      }
      return samples;
    } finally {
      web.close();
    }
  }

  @Test
  void callsAreCountedByMethodAndCodeAsGoGrpcPrometheusDoes() throws Exception {
    try (TestServer server = TestServer.start()) {
      for (int i = 0; i < 3; i++) {
        server.call(KVGrpcClient.Put, put("m/" + i, 0)).ok();
      }
      assertThat(server.call(KVGrpcClient.Put, put("m/leased", 12345)).status()).isEqualTo(GrpcStatus.NOT_FOUND);
      server.call(KVGrpcClient.Range, RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("m/0")).build()).ok();

      Map<String, Double> samples = scrape(server);
      assertThat(samples.get("grpc_server_started_total{" + PUT + "}")).isEqualTo(4.0);
      assertThat(samples.get("grpc_server_handled_total{grpc_code=\"OK\"," + PUT + "}")).isEqualTo(3.0);
      assertThat(samples.get("grpc_server_handled_total{grpc_code=\"NotFound\"," + PUT + "}")).isEqualTo(1.0);
      assertThat(samples.get("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Range\","
          + "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}")).isEqualTo(1.0);
      assertThat(samples.get("grpc_server_started_total{grpc_method=\"Txn\",grpc_service=\"etcdserverpb.KV\","
          + "grpc_type=\"unary\"}")).as("every method's series exists from the start").isEqualTo(0.0);
      assertThat(samples.get("etcd_network_client_grpc_received_bytes_total")).isGreaterThan(4 * 6.0);
      assertThat(samples.get("etcd_network_client_grpc_sent_bytes_total")).isPositive();
    }
  }

  /** etcd's dashboard counts open watch streams as started less handled; a client's cancel ends one Canceled. */
  @Test
  void watchStreamsOpenAreStartedLessHandled() throws Exception {
    try (TestServer server = TestServer.start()) {
      GrpcClient client = server.newClient();
      try {
        Promise<Void> created = Promise.promise();
        GrpcClientRequest<WatchRequest, WatchResponse> call = await(client.request(
            SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"), WatchGrpcClient.Watch));
        // the handler first: an answer that came before it would be dropped
        call.response().onSuccess(response -> response.handler(r -> created.tryComplete()));
        call.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8("w"))).build());
        await(created.future());
        Map<String, Double> open = scrape(server);
        assertThat(open.get("grpc_server_started_total{" + WATCH + "}")
            - open.get("grpc_server_handled_total{grpc_code=\"OK\"," + WATCH + "}")).isEqualTo(1.0);

        call.cancel();
        String canceled = "grpc_server_handled_total{grpc_code=\"Canceled\"," + WATCH + "}";
        server.awaitMetric(canceled, v -> v == 1);
        Map<String, Double> after = scrape(server);
        assertThat(after.get("grpc_server_started_total{" + WATCH + "}")
            - after.get("grpc_server_handled_total{grpc_code=\"OK\"," + WATCH + "}") - after.get(canceled))
            .isEqualTo(0.0);
      } finally {
        client.close();
      }
    }
  }

  @Test
  void membershipProposalsDiskAndSizeAreReportedUnderEtcdsNames() throws Exception {
    try (TestServer server = TestServer.start("storage.quota-bytes=1073741824")) {
      for (int i = 0; i < 5; i++) {
        server.call(KVGrpcClient.Put, put("p/" + i, 0)).ok();
      }
      StatusResponse status = server.call(MaintenanceGrpcClient.Status, StatusRequest.getDefaultInstance()).ok();
      Map<String, Double> samples = scrape(server);

      assertThat(samples.get("etcd_server_has_leader")).isEqualTo(1.0);
      assertThat(samples.get("etcd_server_is_leader")).isEqualTo(1.0);
      assertThat(samples.get("etcd_server_is_learner")).isEqualTo(0.0);
      assertThat(samples.get("etcd_server_leader_changes_seen_total")).isEqualTo(1.0);
      assertThat(samples.get("etcd_server_id{server_id=\"" + Long.toHexString(status.getHeader().getMemberId())
          + "\"}")).isEqualTo(1.0);
      assertThat(samples.get("etcd_server_version{server_version=\"" + status.getVersion() + "\"}")).isEqualTo(1.0);
      assertThat(samples.get("etcd_cluster_version{cluster_version=\"3.4\"}")).isEqualTo(1.0);

      assertThat(samples.get("etcd_server_proposals_committed_total")).isEqualTo((double) status.getRaftIndex())
          .isGreaterThanOrEqualTo(5);
      assertThat(samples.get("etcd_server_proposals_applied_total")).isEqualTo((double) status.getRaftAppliedIndex());
      assertThat(samples.get("etcd_server_proposals_pending")).isEqualTo(0.0);
      assertThat(samples.get("etcd_server_proposals_failed_total")).isEqualTo(0.0);
      assertThat(samples.get("etcd_debugging_mvcc_current_revision")).isEqualTo(
          (double) status.getHeader().getRevision());
      assertThat(samples.get("etcd_debugging_mvcc_compact_revision")).isEqualTo(-1.0);

      // each put was its own group commit, synced
      assertThat(samples.get("etcd_disk_wal_fsync_duration_seconds_count")).isBetween(5.0, 6.0);
      assertThat(samples.get("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}")).isBetween(5.0, 6.0);
      assertThat(samples.get("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"}")).isBetween(5.0, 6.0);
      assertThat(samples.get("etcd_disk_backend_commit_duration_seconds_count")).isBetween(5.0, 6.0);
      assertThat(samples.get("etcd_disk_backend_commit_duration_seconds_sum"))
          .isGreaterThanOrEqualTo(samples.get("etcd_disk_wal_fsync_duration_seconds_sum"));

      assertThat(samples.get("etcd_server_quota_backend_bytes")).isEqualTo(1073741824.0);
      assertThat(samples.get("etcd_mvcc_db_total_size_in_bytes")).isPositive()
          .isEqualTo(samples.get("etcd_debugging_mvcc_db_total_size_in_bytes"));
      assertThat(samples.get("etcd_mvcc_db_total_size_in_use_in_bytes")).isPositive()
          .isLessThanOrEqualTo(samples.get("etcd_mvcc_db_total_size_in_bytes"));
    }
  }
}
