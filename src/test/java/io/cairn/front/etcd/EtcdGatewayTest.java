package io.cairn.front.etcd;

import io.cairn.TestServer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * etcd's JSON gateway on the gRPC port, as {@code curl -X POST http://host:2379/v3/kv/range -d '{"key":"Zm9v"}'}
 * uses it: the answers and errors etcd 3.4 gives (recorded from it, identifiers aside).
 */
class EtcdGatewayTest {

  TestServer server;
  WebClient web;

  @BeforeEach
  void start() throws Exception {
    server = TestServer.start();
    web = WebClient.create(server.clientVertx());
  }

  @AfterEach
  void stop() throws Exception {
    web.close();
    server.close();
  }

  HttpResponse<Buffer> post(String path, String body) throws Exception {
    return await(web.request(HttpMethod.POST, server.grpcPort(), "127.0.0.1", path)
        .sendBuffer(Buffer.buffer(body)));
  }

  static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void putRangeTxnAndDeleteAnswerEtcdsJson() throws Exception {
    HttpResponse<Buffer> put = post("/v3/kv/put", "{\"key\":\"" + b64("foo") + "\",\"value\":\"" + b64("bar")
        + "\"}");
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(put.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(put.getHeader("Access-Control-Allow-Origin")).isEqualTo("*");
    JsonObject header = put.bodyAsJsonObject().getJsonObject("header");
    assertThat(header.fieldNames()).containsExactlyInAnyOrder("cluster_id", "member_id", "revision", "raft_term");
    assertThat(header.getString("revision")).isEqualTo("2");

    // /v3beta/ is /v3/; unknown fields are ignored; enums by name or number, 64-bit numbers as strings or numbers
    JsonObject range = post("/v3beta/kv/range", "{\"key\":\"" + b64("foo") + "\",\"bogus\":1,\"sort_order\":"
        + "\"DESCEND\",\"limit\":\"5\",\"revision\":2}").bodyAsJsonObject();
    assertThat(range.getString("count")).isEqualTo("1");
    assertThat(range.getJsonArray("kvs").getJsonObject(0).encode()).isEqualTo("{\"key\":\"" + b64("foo")
        + "\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"" + b64("bar") + "\"}");
    JsonObject keysOnly = post("/v3/kv/range", "{\"key\":\"" + b64("foo") + "\",\"keysOnly\":true}")
        .bodyAsJsonObject();
    assertThat(keysOnly.getJsonArray("kvs").getJsonObject(0).containsKey("value")).isFalse();

    JsonObject txn = post("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + b64("foo") + "\",\"result\":\"EQUAL\","
        + "\"target\":\"VALUE\",\"value\":\"" + b64("bar") + "\"}],\"success\":[{\"request_put\":{\"key\":\""
        + b64("foo") + "\",\"value\":\"" + b64("baz") + "\"}}]}").bodyAsJsonObject();
    assertThat(txn.getBoolean("succeeded")).isTrue();
    JsonObject deleted = post("/v3/kv/deleterange", "{\"key\":\"" + b64("foo") + "\",\"prev_kv\":true}")
        .bodyAsJsonObject();
    assertThat(deleted.getString("deleted")).isEqualTo("1");
    assertThat(deleted.getJsonArray("prev_kvs").getJsonObject(0).getString("value")).isEqualTo(b64("baz"));
  }

  @Test
  void leasesAndMaintenance() throws Exception {
    JsonObject granted = post("/v3/lease/grant", "{\"TTL\":30}").bodyAsJsonObject();
    assertThat(granted.getString("TTL")).isEqualTo("30");
    String id = granted.getString("ID");
    JsonObject ttl = post("/v3/kv/lease/timetolive", "{\"ID\":\"" + id + "\"}").bodyAsJsonObject();
    assertThat(ttl.getString("grantedTTL")).isEqualTo("30");
    assertThat(post("/v3/lease/revoke", "{\"ID\":" + id + "}").statusCode()).isEqualTo(200);
    assertThat(post("/v3/maintenance/status", "{}").bodyAsJsonObject().getString("version")).isEqualTo("3.4.0");
    assertThat(post("/v3/cluster/member/list", "").bodyAsJsonObject().getJsonArray("members")).hasSize(1);
  }

  /**
   * {@code /v3/watch}: the body's requests (one after another) go to one watch stream, and each answer comes back
   * as a {"result":...} line as it happens; the body's end does not end the watch, the HTTP client leaving does.
   */
  @Test
  void aWatchStreamsItsAnswersAsLinesUntilTheClientLeaves() throws Exception {
    java.util.concurrent.BlockingQueue<JsonObject> lines = new java.util.concurrent.LinkedBlockingQueue<>();
    io.vertx.core.http.HttpClient http = server.clientVertx().createHttpClient();
    try {
      io.vertx.core.http.HttpClientRequest watch = await(http.request(HttpMethod.POST, server.grpcPort(),
          "127.0.0.1", "/v3/watch"));
      StringBuilder pending = new StringBuilder();
      await(watch.send("{\"create_request\":{\"key\":\"" + b64("w") + "\",\"prev_kv\":true}}\n"
          + "{\"progress_request\":{}}").onSuccess(response -> response.handler(chunk -> {
            pending.append(chunk.toString(StandardCharsets.UTF_8));
            for (int end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
              lines.add(new JsonObject(pending.substring(0, end)));
              pending.delete(0, end + 1);
            }
          })));
      assertThat(next(lines).getJsonObject("result").getBoolean("created")).isTrue();
      assertThat(next(lines).getJsonObject("result").getString("watch_id")).as("the progress answer")
          .isEqualTo("-1");
      post("/v3/kv/put", "{\"key\":\"" + b64("w") + "\",\"value\":\"" + b64("1") + "\"}");
      post("/v3/kv/deleterange", "{\"key\":\"" + b64("w") + "\"}");
      JsonObject put = next(lines).getJsonObject("result").getJsonArray("events").getJsonObject(0);
      assertThat(put.getJsonObject("kv").getString("value")).isEqualTo(b64("1"));
      JsonObject delete = next(lines).getJsonObject("result").getJsonArray("events").getJsonObject(0);
      assertThat(delete.getString("type")).isEqualTo("DELETE");
      assertThat(delete.getJsonObject("prev_kv").getString("value")).isEqualTo(b64("1"));
      assertThat(server.awaitMetric("cairn_etcd_watchers", v -> v == 1)).isEqualTo(1);

      await(watch.connection().close());
      assertThat(server.awaitMetric("cairn_etcd_watchers", v -> v == 0)).isZero();
    } finally {
      http.close();
    }
  }

  /** As through etcd's gateway, a keep-alive answers each request of the body as a line, then ends. */
  @Test
  void aKeepAliveAnswersEachRequestOfTheBodyAsALineThenEnds() throws Exception {
    String id = post("/v3/lease/grant", "{\"TTL\":30}").bodyAsJsonObject().getString("ID");
    HttpResponse<Buffer> keepAlive = post("/v3/lease/keepalive", "{\"ID\":\"" + id + "\"}{\"ID\":" + id + "}");
    String[] lines = keepAlive.bodyAsString().split("\n");
    assertThat(lines).hasSize(2);
    for (String line : lines) {
      JsonObject answer = new JsonObject(line).getJsonObject("result");
      assertThat(answer.getString("ID")).isEqualTo(id);
      assertThat(answer.getString("TTL")).isEqualTo("30");
    }
  }

  /**
   * {@code /v3/maintenance/snapshot} streams the database as etcd's gateway does: {"result":...} lines of base64
   * blobs, the last one the SHA-256 of all the others, which {@code etcdctl snapshot status} checks.
   */
  @Test
  void aSnapshotStreamsAsLinesEndingWithItsChecksum() throws Exception {
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 50; i++) {
      byte[] value = new byte[2000]; // incompressible, so that the database takes several chunks
      random.nextBytes(value);
      post("/v3/kv/put", "{\"key\":\"" + b64("s/" + i) + "\",\"value\":\""
          + Base64.getEncoder().encodeToString(value) + "\"}");
    }
    String[] lines = post("/v3/maintenance/snapshot", "{}").bodyAsString().split("\n");
    assertThat(lines.length).as("chunks and the checksum").isGreaterThan(2);
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    long total = 0;
    for (int i = 0; i < lines.length - 1; i++) {
      byte[] blob = Base64.getDecoder().decode(new JsonObject(lines[i]).getJsonObject("result").getString("blob"));
      sha.update(blob);
      total += blob.length;
    }
    assertThat(total % 512).as("etcdctl takes a database whose size is a multiple of 512").isZero();
    byte[] checksum = Base64.getDecoder().decode(new JsonObject(lines[lines.length - 1]).getJsonObject("result")
        .getString("blob"));
    assertThat(checksum).isEqualTo(sha.digest());
  }

  static JsonObject next(java.util.concurrent.BlockingQueue<JsonObject> lines) throws InterruptedException {
    JsonObject line = lines.poll(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(line).as("a line within 10 s").isNotNull();
    return line;
  }

  @Test
  void errorsCarryEtcdsTextCodeAndHttpStatus() throws Exception {
    HttpResponse<Buffer> future = post("/v3/kv/range", "{\"key\":\"" + b64("foo") + "\",\"revision\":100}");
    assertThat(future.statusCode()).isEqualTo(400);
    assertThat(future.bodyAsJsonObject()).isEqualTo(new JsonObject()
        .put("error", "etcdserver: mvcc: required revision is a future revision")
        .put("message", "etcdserver: mvcc: required revision is a future revision").put("code", 11));
    HttpResponse<Buffer> noKey = post("/v3/kv/range", "");
    assertThat(noKey.statusCode()).isEqualTo(400);
    assertThat(noKey.bodyAsJsonObject().getString("error")).isEqualTo("etcdserver: key is not provided");
    HttpResponse<Buffer> lease = post("/v3/lease/revoke", "{\"ID\":123}");
    assertThat(lease.statusCode()).isEqualTo(404);
    assertThat(lease.bodyAsJsonObject().getInteger("code")).isEqualTo(5);

    HttpResponse<Buffer> notJson = post("/v3/kv/range", "not json");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.bodyAsJsonObject().getInteger("code")).isEqualTo(3);
    assertThat(notJson.bodyAsJsonObject().getString("error")).startsWith("the request is not JSON of its message");
    assertThat(post("/v3/nope", "{}").statusCode()).isEqualTo(404);
    assertThat(await(web.request(HttpMethod.GET, server.grpcPort(), "127.0.0.1", "/v3/kv/range").send())
        .statusCode()).isEqualTo(405);
  }
}
