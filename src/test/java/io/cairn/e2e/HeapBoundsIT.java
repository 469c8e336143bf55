package io.cairn.e2e;

import com.google.protobuf.ByteString;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.DeleteRangeResponse;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.LeaseGrantRequest;
import io.cairn.proto.etcd.LeaseGrpcClient;
import io.cairn.proto.etcd.LeaseRevokeRequest;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.PutResponse;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.RangeResponse;
import io.cairn.proto.etcd.WatchCreateRequest;
import io.cairn.proto.etcd.WatchGrpcClient;
import io.cairn.proto.etcd.WatchRequest;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcClient;
import io.cairn.proto.v1.RangeQuery;
import io.cairn.proto.v1.SetQuery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.WebClient;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static io.cairn.TestServer.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Legal load that each request's own bounds allow must not add up past the heap: the server under {@code bin/cairn}
 * with a 128 MiB heap, and loads that ran it out of memory before.
 */
class HeapBoundsIT {

  private static final int PREFIXES = 24;
  private static final int VALUES_PER_PREFIX = 7;
  private static final int VALUE_BYTES = 1_000_000;

  @TempDir
  Path dataDir;

  /**
   * Deletes that each stay within {@code storage.max-read-bytes}, sent at once, may not add up in one group commit:
   * its events keep every removed value until it is answered. Twenty-four concurrent deletes of 7 MB each (bound
   * about 7.7 MB) ran the heap out before groups stopped taking requests at the bound.
   */
  @Test
  void concurrentLargeDeletesAllSucceedWithinTheHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(4 << 20));
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      KVGrpcClient kv = KVGrpcClient.create(grpc, SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"));
      ByteString value = randomValue(7);
      for (int prefix = 0; prefix < PREFIXES; prefix++) {
        for (int i = 0; i < VALUES_PER_PREFIX; i++) {
          await(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("d" + prefix + "/" + i))
              .setValue(value).build()));
        }
      }

      List<Future<DeleteRangeResponse>> deletes = new ArrayList<>();
      for (int prefix = 0; prefix < PREFIXES; prefix++) {
        deletes.add(kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("d" + prefix + "/"))
            .setRangeEnd(ByteString.copyFromUtf8("d" + prefix + "0")).build()));
      }
      await(Future.join(deletes).otherwiseEmpty());
      for (Future<DeleteRangeResponse> delete : deletes) {
        assertThat(delete.succeeded()).as("%s; the server said:%n%s", delete.cause(), server.text()).isTrue();
        assertThat(delete.result().getDeleted()).isEqualTo(VALUES_PER_PREFIX);
      }
      assertThat(deletes.stream().map(d -> d.result().getHeader().getRevision()).distinct().count())
          .isEqualTo(PREFIXES);
      assertThat(await(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("d"))
          .setRangeEnd(ByteString.copyFromUtf8("e")).setCountOnly(true).build())).getCount()).isZero();
      assertStillReady(vertx, server);
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /**
   * A request message being received is buffered whole, so requests count under {@code front.max-inflight-bytes}
   * from the moment their length arrives: 256 puts of 1 MB at once over 16 connections ran the heap out while
   * they were still arriving, before any was complete to be counted.
   */
  @Test
  void concurrentLargePutsAreRefusedAsTheyArriveNotBufferedPastTheHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<GrpcClient> clients = new ArrayList<>();
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
      ByteString value = randomValue(11);
      List<Future<PutResponse>> puts = new ArrayList<>();
      for (int connection = 0; connection < 16; connection++) {
        GrpcClient client = GrpcClient.client(vertx);
        clients.add(client);
        KVGrpcClient kv = KVGrpcClient.create(client, address);
        for (int i = 0; i < 16; i++) {
          puts.add(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("p/" + connection + "/" + i))
              .setValue(value).build()));
        }
      }
      await(Future.join(puts).otherwiseEmpty());
      long stored = 0;
      for (Future<PutResponse> put : puts) {
        if (put.succeeded()) {
          stored++;
        } else {
          assertThat(put.cause()).as("the server said:%n%s", server.text()).isInstanceOf(InvalidStatusException.class);
          InvalidStatusException refused = (InvalidStatusException) put.cause();
          assertThat(refused.actualStatus()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
        }
      }
      assertThat(stored).as("some puts get through").isPositive();
      KVGrpcClient kv = KVGrpcClient.create(clients.get(0), address);
      assertThat(await(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("p/"))
          .setRangeEnd(ByteString.copyFromUtf8("p0")).setCountOnly(true).build())).getCount())
          .as("exactly the acknowledged puts are stored").isEqualTo(stored);
      assertStillReady(vertx, server);
    } finally {
      for (GrpcClient client : clients) {
        client.close();
      }
      vertx.close();
    }
  }

  /**
   * A lease revoke cannot be refused half-way, so past {@code storage.max-read-bytes} its events are dropped (and
   * watchers read them from history) instead of holding every removed value: revoking a lease with 150 MB of values
   * attached ran the heap out, and since the lease outlives a restart, its expiry would have again and again.
   */
  @Test
  void revokingALeaseWithMoreValuesThanTheHeapSucceeds() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx);
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
      KVGrpcClient kv = KVGrpcClient.create(grpc, address);
      LeaseGrpcClient leases = LeaseGrpcClient.create(grpc, address);
      long lease = await(leases.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(600).build())).getID();
      ByteString value = randomValue(13);
      int keys = 150;
      for (int i = 0; i < keys; i++) {
        await(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("l/" + i)).setValue(value)
            .setLease(lease).build()));
      }
      await(leases.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(lease).build()));
      assertThat(await(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("l/"))
          .setRangeEnd(ByteString.copyFromUtf8("l0")).setCountOnly(true).build())).getCount())
          .as("the server said:%n%s", server.text()).isZero();
      assertStillReady(vertx, server);
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /**
   * A session pipelines up to {@code stream.interactive-max-inflight} queries, which stay on the heap until
   * answered: eight sessions of 1 MB sets ran the heap out, each within its own bound. Their messages now count
   * under {@code front.max-inflight-bytes} too, and a session past it waits (its stream is not read) until answers
   * give bytes back: every set is answered and stored.
   */
  @Test
  void pipelinedLargeSetsInManySessionsWaitForTheByteBoundInsteadOfRunningTheHeapOut() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<GrpcClient> clients = new ArrayList<>();
    int sessions = 8;
    int setsPerSession = 64;
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
      ByteString value = randomValue(17);
      List<Future<Integer>> answered = new ArrayList<>();
      for (int session = 0; session < sessions; session++) {
        GrpcClient client = GrpcClient.client(vertx);
        clients.add(client);
        String prefix = "s" + session + "/";
        List<QueryRequest> sets = new ArrayList<>();
        for (int i = 0; i < setsPerSession; i++) {
          sets.add(QueryRequest.newBuilder().setQuery(Query.newBuilder().setSet(SetQuery.newBuilder()
              .setCollection("big").setKey(ByteString.copyFromUtf8(prefix + i)).setValue(value))).build());
        }
        answered.add(client.request(address, QueryServiceGrpcClient.ExecuteInteractive)
            .compose(call -> interactive(call, sets)));
      }
      await(Future.join(answered).otherwiseEmpty());
      for (Future<Integer> session : answered) {
        assertThat(session.succeeded()).as("%s; the server said:%n%s", session.cause(), server.text()).isTrue();
        assertThat(session.result()).as("sets answered without error").isEqualTo(setsPerSession);
      }
      QueryResponse stored = await(QueryServiceGrpcClient.create(clients.get(0), address).executeQuery(
          QueryRequest.newBuilder().setQuery(Query.newBuilder().setRange(RangeQuery.newBuilder()
              .setCollection("big").setLimit(1000).setKeysOnly(true))).build()));
      assertThat(stored.getResult().getRange().getKvsCount()).isEqualTo(sessions * setsPerSession);
      assertStillReady(vertx, server);
    } finally {
      for (GrpcClient client : clients) {
        client.close();
      }
      vertx.close();
    }
  }

  /**
   * Answers count under {@code front.max-inflight-bytes} until they have gone out: 100 concurrent range reads of
   * 5 MB each, every one within {@code storage.max-read-bytes}, ran the heap out with their answers waiting to be
   * sent. Past the bound a read's answer is dropped and the read runs again once there is room: all are answered.
   * Sent to the readers (no read answered on the event loop), the same reads ran the heap out in one reader: a batch
   * of reads kept every answer until its last was read, until it stopped at {@code storage.max-read-bytes}.
   */
  @Test
  void concurrentLargeReadsAreAllAnsweredWithinTheHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(64 << 20));
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir,
        "--set", "storage.inline-read-keys=0")) {
      KVGrpcClient kv = KVGrpcClient.create(grpc, SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"));
      ByteString value = randomValue(23);
      for (int i = 0; i < 5; i++) {
        await(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("r/" + i))
            .setValue(value).build()));
      }
      List<Future<RangeResponse>> reads = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        reads.add(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("r/"))
            .setRangeEnd(ByteString.copyFromUtf8("r0")).build()));
      }
      await(Future.join(reads).otherwiseEmpty());
      for (Future<RangeResponse> read : reads) {
        assertThat(read.succeeded()).as("%s; the server said:%n%s", read.cause(), server.text()).isTrue();
        assertThat(read.result().getKvsList()).hasSize(5).allMatch(kv1 -> kv1.getValue().size() == VALUE_BYTES);
      }
      assertStillReady(vertx, server);
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /**
   * An interactive session keeps nothing of the queries it has answered: it joined each write's answer onto the
   * join of the ones before (so that reads wait for every earlier write), and that chain held every write of the
   * session, value and all, until it ended; 300 sets of 1 MB in one session ran the heap out.
   */
  @Test
  void aLongInteractiveSessionHoldsNoAnsweredWrites() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient client = GrpcClient.client(vertx);
    int sets = 300;
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
      ByteString value = randomValue(19);
      List<QueryRequest> queries = new ArrayList<>();
      for (int i = 0; i < sets; i++) {
        queries.add(QueryRequest.newBuilder().setQuery(Query.newBuilder().setSet(SetQuery.newBuilder()
            .setCollection("long").setKey(ByteString.copyFromUtf8("k" + i % 10)).setValue(value))).build());
      }
      Future<Integer> answered = client.request(address, QueryServiceGrpcClient.ExecuteInteractive)
          .compose(call -> interactive(call, queries));
      await(answered.otherwiseEmpty());
      assertThat(answered.succeeded()).as("%s; the server said:%n%s", answered.cause(), server.text()).isTrue();
      assertThat(answered.result()).as("sets answered without error").isEqualTo(sets);
      assertStillReady(vertx, server);
    } finally {
      client.close();
      vertx.close();
    }
  }

  /** A value of VALUE_BYTES random bytes (incompressible, as RocksDB would otherwise shrink it). */
  private static ByteString randomValue(long seed) {
    byte[] bytes = new byte[VALUE_BYTES];
    new Random(seed).nextBytes(bytes);
    return ByteString.copyFrom(bytes);
  }

  /**
   * Each etcd watch stream may hold {@code watch.max-backlog-bytes} (1 MiB) of answers its client has not taken,
   * and a delivery more: two hundred streams whose clients stopped reading, fed 64 KiB puts, ran the heap out. The
   * streams of a front now hold {@code watch.max-front-backlog-bytes} together (about 7 MiB per front here), and
   * the rest of their events wait in history.
   */
  @Test
  void manyWatchStreamsWhoseClientsStoppedReadingHoldTheFrontsBoundNotTheHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx);
    List<GrpcClient> stalledClients = new ArrayList<>();
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      try {
        SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
        int streams = 200;
        List<Future<Void>> created = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
          GrpcClient client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(64 << 20));
          stalledClients.add(client);
          for (int i = 0; i < streams / 4; i++) {
            created.add(client.request(address, WatchGrpcClient.Watch).compose(call -> {
              call.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                  .setKey(ByteString.copyFromUtf8("stalled"))).build());
              Promise<Void> first = Promise.promise();
              return call.response().compose(response -> {
                response.handler(answer -> {
                  response.pause();
                  first.tryComplete();
                });
                return first.future();
              });
            }));
          }
        }
        await(Future.all(created));
        KVGrpcClient kv = KVGrpcClient.create(grpc, address);
        // vertx-grpc's client queues 16 messages of a paused stream before it stops reading: the values stay small
        ByteString value = randomValue(17).substring(0, 64 * 1024);
        int puts = 60;
        for (int i = 0; i < puts; i++) {
          await(kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("stalled")).setValue(value).build()));
        }
        assertThat(await(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("stalled")).build()))
            .getKvs(0).getVersion()).as("the server said:%n%s", server.text()).isEqualTo(puts);
        assertStillReady(vertx, server);
      } finally {
        // before the server: its orderly stop would wait for these streams' last answers, which nobody reads
        await(Future.all(stalledClients.stream().map(GrpcClient::close).toList()));
      }
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /**
   * An ExecuteStream whose client stopped reading kept reading ahead until Vert.x's queue held sixteen chunks, of
   * 1 MB each over 1 MB values: twenty such streams ran the heap out. Each now keeps a few chunks ahead, and the
   * streams of a front hold {@code stream.max-front-bytes} together (about 4 MiB per front here), the rest waiting.
   */
  @Test
  void manyStreamsWhoseClientsStoppedReadingHoldTheFrontsBoundNotTheHeap() throws Exception {
    Vertx vertx = Vertx.vertx();
    GrpcClient grpc = GrpcClient.client(vertx);
    HttpClient stalled = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
    try (CairnProcess server = CairnProcess.startWithLaunchScript(Map.of("CAIRN_HEAP", "128m"), dataDir)) {
      try {
        SocketAddress address = SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1");
        QueryServiceGrpcClient queries = QueryServiceGrpcClient.create(grpc, address);
        ByteString value = randomValue(19);
        int values = 24;
        for (int i = 0; i < values; i++) {
          await(queries.executeQuery(QueryRequest.newBuilder().setQuery(Query.newBuilder().setSet(SetQuery.newBuilder()
              .setCollection("wide").setKey(ByteString.copyFromUtf8(String.format("w%02d", i))).setValue(value)))
              .build()));
        }
        QueryRequest everything = QueryRequest.newBuilder().setQuery(Query.newBuilder().setRange(RangeQuery
            .newBuilder().setCollection("wide"))).build();
        Buffer body = Buffer.buffer().appendByte((byte) 0).appendInt(everything.getSerializedSize())
            .appendBytes(everything.toByteArray());
        List<Future<Void>> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          // a plain HTTP/2 call, paused as its answer begins: it takes no more than the window it opened with
          sent.add(stalled.request(HttpMethod.POST, server.grpcPort(), "127.0.0.1",
                  "/cairn.v1.QueryService/ExecuteStream")
              .compose(call -> {
                call.putHeader("content-type", "application/grpc").putHeader("te", "trailers");
                call.response().onSuccess(HttpClientResponse::pause);
                return call.end(body);
              }));
        }
        await(Future.all(sent));
        // every stream waits: for its client to take what it was sent, or for room the others hold
        awaitMetrics(vertx, server, m -> m.getOrDefault("cairn_stream_waiting", 0.0)
            + m.getOrDefault("cairn_stream_waiting_room", 0.0) == 20);
        QueryResponse count = await(queries.executeQuery(QueryRequest.newBuilder().setQuery(Query.newBuilder()
            .setRange(RangeQuery.newBuilder().setCollection("wide").setKeysOnly(true))).build()));
        assertThat(count.getResult().getRange().getKvsCount()).as("the server said:%n%s", server.text())
            .isEqualTo(values);
        assertStillReady(vertx, server);
      } finally {
        await(stalled.close());
      }
    } finally {
      grpc.close();
      vertx.close();
    }
  }

  /** Reads the server's /metrics (summed over labels) until {@code condition} holds; fails after 30 s. */
  private static void awaitMetrics(Vertx vertx, CairnProcess server, Predicate<Map<String, Double>> condition)
      throws Exception {
    WebClient web = WebClient.create(vertx);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Map<String, Double> last = Map.of();
    while (System.nanoTime() < deadline) {
      Map<String, Double> sums = new HashMap<>();
      for (String line : await(web.get(server.httpPort(), "127.0.0.1", "/metrics").send()).bodyAsString()
          .split("\n")) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int nameEnd = line.indexOf('{') > 0 ? line.indexOf('{') : line.indexOf(' ');
        sums.merge(line.substring(0, nameEnd), Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)),
            Double::sum);
      }
      if (condition.test(sums)) {
        return;
      }
      last = sums;
      await(vertx.timer(50));
    }
    throw new AssertionError("the metrics never met the condition; the server said:\n" + server.text()
        + "\nlast metrics: " + last);
  }

  /** The server is still up and ready. */
  private static void assertStillReady(Vertx vertx, CairnProcess server) throws Exception {
    WebClient web = WebClient.create(vertx);
    assertThat(await(web.get(server.httpPort(), "127.0.0.1", "/readyz").send()).statusCode()).isEqualTo(200);
  }

  /** Writes {@code queries} as the transport takes them, then half-closes; the number of answers without error. */
  private static Future<Integer> interactive(GrpcClientRequest<QueryRequest, QueryResponse> call,
                                             List<QueryRequest> queries) {
    AtomicInteger ok = new AtomicInteger();
    Promise<Integer> done = Promise.promise();
    call.response().onFailure(done::tryFail).onSuccess(response -> {
      response.handler(answer -> {
        if (!answer.hasError()) {
          ok.incrementAndGet();
        }
      });
      response.exceptionHandler(done::tryFail);
      response.endHandler(v -> done.tryComplete(ok.get()));
    });
    writeFrom(call, queries, 0);
    return done.future();
  }

  private static void writeFrom(GrpcClientRequest<QueryRequest, QueryResponse> call, List<QueryRequest> queries,
                                int next) {
    int i = next;
    while (i < queries.size() && !call.writeQueueFull()) {
      call.write(queries.get(i++));
    }
    if (i == queries.size()) {
      call.end();
    } else {
      int from = i;
      call.drainHandler(v -> writeFrom(call, queries, from));
    }
  }
}
