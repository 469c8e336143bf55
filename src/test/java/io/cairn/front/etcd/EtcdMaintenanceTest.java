package io.cairn.front.etcd;

import com.google.protobuf.ByteString;
import io.cairn.TestServer;
import io.cairn.proto.etcd.AlarmRequest;
import io.cairn.proto.etcd.AlarmResponse;
import io.cairn.proto.etcd.AlarmType;
import io.cairn.proto.etcd.DefragmentRequest;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.HashKVRequest;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.MaintenanceGrpcClient;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.StatusRequest;
import io.cairn.proto.etcd.StatusResponse;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Maintenance over the etcd API, the space quota, and etcd's HTTP endpoints on the gRPC port. */
class EtcdMaintenanceTest {

  static PutRequest put(String key, int size) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFrom(new byte[size]))
        .build();
  }

  @Test
  void statusHashAndDefragment() throws Exception {
    try (TestServer server = TestServer.start()) {
      server.call(KVGrpcClient.Put, put("m/a", 10)).ok();
      long revision = server.call(KVGrpcClient.Put, put("m/b", 10)).ok().getHeader().getRevision();
      StatusResponse status = server.call(MaintenanceGrpcClient.Status, StatusRequest.getDefaultInstance()).ok();
      assertThat(status.getHeader().getRevision()).isEqualTo(revision);
      assertThat(status.getLeader()).isEqualTo(status.getHeader().getMemberId()).isNotZero();
      assertThat(status.getRaftIndex()).isGreaterThanOrEqualTo(2);
      assertThat(status.getVersion()).isEqualTo("3.4.0");

      int atRevision = server.call(MaintenanceGrpcClient.HashKV, HashKVRequest.newBuilder().setRevision(revision)
          .build()).ok().getHash();
      server.call(KVGrpcClient.Put, put("m/c", 10)).ok();
      int later = server.call(MaintenanceGrpcClient.HashKV, HashKVRequest.getDefaultInstance()).ok().getHash();
      int again = server.call(MaintenanceGrpcClient.HashKV, HashKVRequest.newBuilder().setRevision(revision)
          .build()).ok().getHash();
      assertThat(again).as("the hash at a revision does not change").isEqualTo(atRevision);
      assertThat(later).isNotEqualTo(atRevision);

      assertThat(server.call(MaintenanceGrpcClient.Defragment, DefragmentRequest.getDefaultInstance()).ok()
          .hasHeader()).as("etcd's answer has no header").isFalse();
    }
  }

  @Test
  void exceedingTheQuotaRaisesNospaceAndRefusesPuts() throws Exception {
    try (TestServer server = TestServer.start("storage.quota-bytes=262144")) {
      for (int i = 0; i < 400 && server.metric("cairn_storage_alarms") == 0; i++) {
        server.call(KVGrpcClient.Put, put("q/" + i, 4096));
      }
      // the size is sampled after commits at most every 250 ms, and every second
      server.awaitMetric("cairn_storage_alarms", v -> v == 1);
      AlarmResponse alarms = server.call(MaintenanceGrpcClient.Alarm, AlarmRequest.getDefaultInstance()).ok();
      assertThat(alarms.getAlarmsList()).extracting(a -> a.getAlarm()).containsExactly(AlarmType.NOSPACE);
      assertThat(alarms.hasHeader()).as("etcd's answer has no header").isFalse();

      TestServer.Reply<?> refused = server.call(KVGrpcClient.Put, put("q/more", 10));
      assertThat(refused.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      assertThat(refused.message()).isEqualTo("etcdserver: mvcc: database space exceeded");
      server.call(KVGrpcClient.DeleteRange, DeleteRangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("q/0"))
          .build()).ok();

      WebClient web = WebClient.create(server.clientVertx());
      HttpResponse<Buffer> health = TestServer.await(web.get(server.grpcPort(), "127.0.0.1", "/health").send());
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.bodyAsJsonObject().getString("health")).isEqualTo("false");
      assertThat(health.bodyAsJsonObject().getString("reason")).contains("ALARM NOSPACE");

      long member = alarms.getAlarms(0).getMemberID();
      AlarmResponse disarmed = server.call(MaintenanceGrpcClient.Alarm, AlarmRequest.newBuilder()
          .setAction(AlarmRequest.AlarmAction.DEACTIVATE).setMemberID(member).setAlarm(AlarmType.NOSPACE).build()).ok();
      assertThat(disarmed.getAlarmsCount()).isEqualTo(1);
      assertThat(server.metric("cairn_storage_alarms")).isZero();
    }
  }

  @Test
  void grpcPortAnswersEtcdHttpEndpoints() throws Exception {
    try (TestServer server = TestServer.start()) {
      WebClient web = WebClient.create(server.clientVertx());
      HttpResponse<Buffer> health = TestServer.await(web.get(server.grpcPort(), "127.0.0.1", "/health").send());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.bodyAsJsonObject().getString("health")).isEqualTo("true");
      HttpResponse<Buffer> version = TestServer.await(web.get(server.grpcPort(), "127.0.0.1", "/version").send());
      assertThat(version.bodyAsJsonObject().getString("etcdserver")).isEqualTo("3.4.0");
      assertThat(version.bodyAsJsonObject().getString("etcdcluster")).isEqualTo("3.4.0");
      HttpResponse<Buffer> metrics = TestServer.await(web.get(server.grpcPort(), "127.0.0.1", "/metrics").send());
      assertThat(metrics.bodyAsString()).contains("cairn_storage_revision");
    }
  }
}
