package io.cairn.front.etcd;

import io.cairn.TestServer;
import io.cairn.proto.etcd.WatchCreateRequest;
import io.cairn.proto.etcd.WatchGrpcClient;
import io.cairn.proto.etcd.WatchRequest;
import io.cairn.proto.etcd.WatchResponse;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.cairn.front.etcd.JetcdKvTest.bs;
import static io.cairn.front.etcd.JetcdKvTest.get;
import static io.cairn.front.etcd.JetcdKvTest.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Watches and leases through etcd's Java client, and a raw watch stream whose client stops reading. */
class JetcdWatchLeaseTest {

  TestServer server;
  Client client;
  KV kv;

  @BeforeEach
  void start() throws Exception {
    server = TestServer.start();
    connect();
  }

  void connect() {
    client = Client.builder().endpoints("http://127.0.0.1:" + server.grpcPort()).build();
    kv = client.getKVClient();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.close();
  }

  /** Events as "PUT key=value" / "DELETE key", with the previous value when present. */
  static String describe(WatchEvent e) {
    String prev = e.getPrevKV() != null && !e.getPrevKV().getKey().isEmpty()
        ? " (was " + str(e.getPrevKV().getValue()) + ")" : "";
    return e.getEventType() == WatchEvent.EventType.PUT
        ? "PUT " + str(e.getKeyValue().getKey()) + "=" + str(e.getKeyValue().getValue()) + prev
        : "DELETE " + str(e.getKeyValue().getKey()) + prev;
  }

  static List<String> take(BlockingQueue<String> queue, int n) throws InterruptedException {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String next = queue.poll(10, TimeUnit.SECONDS);
      assertThat(next).as("event %d of %d (got %s)", i + 1, n, out).isNotNull();
      out.add(next);
    }
    return out;
  }

  Watch.Watcher watch(String key, WatchOption option, BlockingQueue<String> events) {
    return client.getWatchClient().watch(bs(key), option, Watch.listener(
        r -> r.getEvents().forEach(e -> events.add(describe(e))), e -> events.add("ERROR " + e)));
  }

  /** A server of its own for this test, with these settings, and the jetcd client connected to it. */
  void restartWith(String... settings) throws Exception {
    stop();
    server = TestServer.start(settings);
    connect();
  }

  /** A plain gRPC client of its own connection, for streams the test drives message by message. */
  GrpcClient rawClient() {
    return GrpcClient.client(server.clientVertx(),
        new io.vertx.grpc.client.GrpcClientOptions().setMaxMessageSize(16 << 20));
  }

  /** A Watch call of {@code raw}'s own, opened, for the test to write its requests to. */
  GrpcClientRequest<WatchRequest, WatchResponse> watchCall(GrpcClient raw) throws Exception {
    return TestServer.await(raw.request(SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"),
        WatchGrpcClient.Watch));
  }

  /**
   * A watch stream of {@code raw}'s own, on keys from {@code start} to {@code end}, whose client can stop reading:
   * each event's mod revision goes to {@code revisions} and counts {@code delivered} down. Returns once created.
   */
  GrpcClientResponse<WatchRequest, WatchResponse> rawWatch(GrpcClient raw, String start, String end,
                                                           List<Long> revisions, CountDownLatch delivered)
      throws Exception {
    CountDownLatch created = new CountDownLatch(1);
    GrpcClientResponse<WatchRequest, WatchResponse> stream = TestServer.await(
        raw.request(SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"), WatchGrpcClient.Watch)
            .compose(call -> {
              call.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                  .setKey(com.google.protobuf.ByteString.copyFromUtf8(start)).setRangeEnd(
                      com.google.protobuf.ByteString.copyFromUtf8(end))).build());
              return call.response().map(response -> response.handler(r -> {
                if (r.getCreated()) {
                  created.countDown();
                }
                r.getEventsList().forEach(e -> {
                  revisions.add(e.getKv().getModRevision());
                  delivered.countDown();
                });
              }));
            }));
    assertThat(created.await(10, TimeUnit.SECONDS)).isTrue();
    return stream;
  }

  /**
   * Opens a watch on {@code prefix/} whose client reads, puts {@code puts} values of {@code valueBytes} over five
   * keys under it, and checks that the client got every one, in order. Returns their revisions.
   */
  List<Long> putWhileAClientReads(GrpcClient readingClient, String prefix, int puts, int valueBytes)
      throws Exception {
    List<Long> readingReceived = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch readingDelivered = new CountDownLatch(puts);
    rawWatch(readingClient, prefix + "/", prefix + "0", readingReceived, readingDelivered);
    byte[] value = new byte[valueBytes];
    List<Long> revisions = new ArrayList<>();
    for (int i = 0; i < puts; i++) {
      revisions.add(get(kv.put(bs(prefix + "/" + (i % 5)), ByteSequence.from(value))).getHeader().getRevision());
    }
    assertThat(readingDelivered.await(30, TimeUnit.SECONDS)).as("the reading client's events").isTrue();
    assertThat(new ArrayList<>(readingReceived)).isEqualTo(revisions);
    return revisions;
  }

  @Test
  void prefixWatchWithPrevKvAndFilters() throws Exception {
    BlockingQueue<String> all = new LinkedBlockingQueue<>();
    BlockingQueue<String> deletesOnly = new LinkedBlockingQueue<>();
    try (Watch.Watcher a = watch("w/", WatchOption.builder().isPrefix(true).withPrevKV(true).build(), all);
         Watch.Watcher b = watch("w/", WatchOption.builder().isPrefix(true).withNoPut(true).build(), deletesOnly)) {
      get(kv.put(bs("w/1"), bs("a")));
      get(kv.put(bs("other"), bs("x")));
      get(kv.put(bs("w/1"), bs("b")));
      get(kv.delete(bs("w/1")));
      assertThat(take(all, 3)).containsExactly("PUT w/1=a", "PUT w/1=b (was a)", "DELETE w/1 (was b)");
      assertThat(take(deletesOnly, 1)).containsExactly("DELETE w/1");
    }
  }

  /**
   * A lease revoke whose events would hold more than {@code storage.max-read-bytes} drops them, and its watchers
   * read the revision from history instead: each still gets every delete, with its previous value when it asked.
   */
  @Test
  void watchersOfALeaseRevokeTooLargeForItsEventsGetEveryDeleteFromHistory() throws Exception {
    restartWith("storage.max-read-bytes=65536");
    long lease = get(client.getLeaseClient().grant(60)).getID();
    String value = "v".repeat(20_000);
    for (int i = 0; i < 6; i++) {
      get(kv.put(bs("leased/" + i), bs(value), PutOption.builder().withLeaseId(lease).build()));
    }
    BlockingQueue<String> withPrevious = new LinkedBlockingQueue<>();
    BlockingQueue<String> keysOnly = new LinkedBlockingQueue<>();
    try (Watch.Watcher a = client.getWatchClient().watch(bs("leased/"),
             WatchOption.builder().isPrefix(true).withPrevKV(true).build(), Watch.listener(r -> r.getEvents().forEach(
                 e -> withPrevious.add(e.getEventType() + " " + str(e.getKeyValue().getKey()) + " "
                     + e.getPrevKV().getValue().size())), e -> withPrevious.add("ERROR " + e)));
         Watch.Watcher b = watch("leased/", WatchOption.builder().isPrefix(true).build(), keysOnly)) {
      get(kv.put(bs("leased/start"), bs("s")));
      assertThat(take(keysOnly, 1)).containsExactly("PUT leased/start=s");
      assertThat(take(withPrevious, 1)).containsExactly("PUT leased/start 0");
      get(client.getLeaseClient().revoke(lease));
      List<String> expected = new ArrayList<>();
      List<String> expectedKeys = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        expected.add("DELETE leased/" + i + " 20000");
        expectedKeys.add("DELETE leased/" + i);
      }
      assertThat(take(withPrevious, 6)).isEqualTo(expected);
      assertThat(take(keysOnly, 6)).isEqualTo(expectedKeys);
      get(kv.put(bs("leased/after"), bs("a")));
      assertThat(take(keysOnly, 1)).as("live again").containsExactly("PUT leased/after=a");
    }
  }

  @Test
  void watchFromPastRevisionReplaysHistory() throws Exception {
    long first = get(kv.put(bs("h/k"), bs("1"))).getHeader().getRevision();
    get(kv.put(bs("h/k"), bs("2")));
    get(kv.delete(bs("h/k")));
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    try (Watch.Watcher w = watch("h/k", WatchOption.builder().withRevision(first).build(), events)) {
      assertThat(take(events, 3)).containsExactly("PUT h/k=1", "PUT h/k=2", "DELETE h/k");
      get(kv.put(bs("h/k"), bs("3")));
      assertThat(take(events, 1)).containsExactly("PUT h/k=3");
    }
  }

  @Test
  void aWatchOpenedAfterUnwatchedWritesStartsAtTheCurrentRevision() throws Exception {
    // no watch stream is open yet, so storage publishes no events for these commits
    get(kv.put(bs("q/k"), bs("1")));
    long second = get(kv.put(bs("q/k"), bs("2"))).getHeader().getRevision();
    BlockingQueue<String> live = new LinkedBlockingQueue<>();
    try (Watch.Watcher w = watch("q/k", WatchOption.DEFAULT, live)) {
      get(kv.put(bs("q/k"), bs("3")));
      assertThat(take(live, 1)).containsExactly("PUT q/k=3");
    }
    BlockingQueue<String> replayed = new LinkedBlockingQueue<>();
    try (Watch.Watcher w = watch("q/k", WatchOption.builder().withRevision(second).build(), replayed)) {
      assertThat(take(replayed, 2)).containsExactly("PUT q/k=2", "PUT q/k=3");
    }
  }

  @Test
  void watchAtCompactedRevisionIsCanceledWithTheCompactRevision() throws Exception {
    long first = get(kv.put(bs("c/k"), bs("1"))).getHeader().getRevision();
    long second = get(kv.put(bs("c/k"), bs("2"))).getHeader().getRevision();
    get(kv.compact(second));
    CompletableFuture<Throwable> failure = new CompletableFuture<>();
    try (Watch.Watcher w = client.getWatchClient().watch(bs("c/k"), WatchOption.builder().withRevision(first).build(),
        Watch.listener(r -> { }, failure::complete))) {
      Throwable e = failure.get(10, TimeUnit.SECONDS);
      assertThat(e).isInstanceOf(CompactedException.class);
      assertThat(((CompactedException) e).getCompactedRevision()).isEqualTo(second);
    }
  }

  @Test
  void manyWatchersOnOneKeyAllSeeEveryEvent() throws Exception {
    int watchers = 40;
    int puts = 50;
    List<BlockingQueue<String>> queues = new ArrayList<>();
    List<Watch.Watcher> open = new ArrayList<>();
    List<Client> clients = new ArrayList<>();
    try {
      for (int i = 0; i < watchers; i++) {
        Client c = i % 4 == 0 ? client : Client.builder().endpoints("http://127.0.0.1:" + server.grpcPort()).build();
        if (c != client) {
          clients.add(c);
        }
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        queues.add(q);
        CountDownLatch created = new CountDownLatch(1);
        open.add(c.getWatchClient().watch(bs("fan"), WatchOption.builder().withCreateNotify(true).build(),
            Watch.listener(r -> {
              if (r.isCreatedNotify()) {
                created.countDown();
              }
              r.getEvents().forEach(e -> q.add(describe(e)));
            })));
        assertThat(created.await(10, TimeUnit.SECONDS)).isTrue();
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < puts; i++) {
        get(kv.put(bs("fan"), bs("v" + i)));
        expected.add("PUT fan=v" + i);
      }
      for (BlockingQueue<String> q : queues) {
        assertThat(take(q, puts)).isEqualTo(expected);
      }
    } finally {
      open.forEach(Watch.Watcher::close);
      clients.forEach(Client::close);
    }
  }

  /**
   * A client that stops reading its watch stream must not hold up the writer or other watchers; when it reads
   * again it gets every event, in order, from history.
   */
  @Test
  void slowWatcherFallsBehindAndCatchesUp() throws Exception {
    BlockingQueue<String> fast = new LinkedBlockingQueue<>();
    GrpcClient raw = rawClient();
    List<Long> slowRevisions = Collections.synchronizedList(new ArrayList<>());
    int puts = 200;
    CountDownLatch allDelivered = new CountDownLatch(puts);
    GrpcClientResponse<WatchRequest, WatchResponse> slow = rawWatch(raw, "big/", "big0", slowRevisions,
        allDelivered);
    slow.pause();
    try (Watch.Watcher w = watch("big/", WatchOption.builder().isPrefix(true).build(), fast)) {
      byte[] value = new byte[64 * 1024];
      List<Long> revisions = new ArrayList<>();
      for (int i = 0; i < puts; i++) {
        revisions.add(get(kv.put(bs("big/" + (i % 10)), ByteSequence.from(value))).getHeader().getRevision());
      }
      assertThat(take(fast, puts)).hasSize(puts);
      assertThat(slowRevisions.size()).as("the paused client cannot have received everything").isLessThan(puts);
      slow.resume();
      assertThat(allDelivered.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(new ArrayList<>(slowRevisions)).isEqualTo(revisions);
    } finally {
      raw.close();
    }
  }

  /**
   * {@code watch.max-backlog-bytes} bounds what a stream whose client stopped reading holds: past it the server
   * stops queueing live events for it (the front's backlog gauge stays near the bound, where 1 MiB by default let
   * it grow to the whole 800 kB written), and the client still gets every event, in order, when it reads again.
   */
  @Test
  void aStalledStreamHoldsAtMostTheConfiguredBacklogAndLosesNothing() throws Exception {
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536");
    GrpcClient raw = rawClient();
    List<Long> received = Collections.synchronizedList(new ArrayList<>());
    int puts = 50;
    CountDownLatch allDelivered = new CountDownLatch(puts);
    GrpcClientResponse<WatchRequest, WatchResponse> stalled = rawWatch(raw, "bl/", "bl0", received, allDelivered);
    stalled.pause();
    try {
      byte[] value = new byte[16 * 1024];
      List<Long> revisions = new ArrayList<>();
      for (int i = 0; i < puts; i++) {
        revisions.add(get(kv.put(bs("bl/" + (i % 5)), ByteSequence.from(value))).getHeader().getRevision());
      }
      assertThat(server.metric("cairn_etcd_watch_backlog_bytes")).as("queued for the stalled client")
          .isLessThanOrEqualTo(2 * 65536);
      stalled.resume();
      assertThat(allDelivered.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(new ArrayList<>(received)).isEqualTo(revisions);
      server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v == 0);
    } finally {
      raw.close();
    }
  }

  /**
   * {@code watch.max-front-watcher-bytes} bounds what the watchers of a front hold: 450 watchers of 1 MB keys ran
   * the 512 MiB heap out. Past the bound a watcher is answered created and canceled, with the reason; once a watcher
   * is canceled there is room again.
   */
  @Test
  void watchersPastTheFrontsWatcherBytesAreCanceledWithTheReason() throws Exception {
    restartWith("front.instances=1", "watch.max-front-watcher-bytes=65536");
    GrpcClient raw = rawClient();
    try {
      BlockingQueue<WatchResponse> answers = new LinkedBlockingQueue<>();
      GrpcClientRequest<WatchRequest, WatchResponse> call = watchCall(raw);
      call.response().onSuccess(response -> response.handler(answers::add));
      java.util.function.LongFunction<WatchResponse> create = id -> {
        byte[] key = new byte[10_000];
        java.util.Arrays.fill(key, (byte) ('a' + id));
        server.clientVertx().runOnContext(v -> call.write(WatchRequest.newBuilder().setCreateRequest(
            WatchCreateRequest.newBuilder().setWatchId(id).setKey(com.google.protobuf.ByteString.copyFrom(key)))
            .build()));
        try {
          return answers.poll(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      };
      // each holds its 10,000-byte key and about 160 bytes more: six fit in 64 KiB, the seventh does not
      for (long id = 1; id <= 6; id++) {
        WatchResponse created = create.apply(id);
        assertThat(created.getCreated()).isTrue();
        assertThat(created.getCanceled()).as("watcher %d", id).isFalse();
      }
      WatchResponse refused = create.apply(7);
      assertThat(refused.getCreated()).isTrue();
      assertThat(refused.getCanceled()).isTrue();
      assertThat(refused.getWatchId()).isEqualTo(7);
      assertThat(refused.getCancelReason()).contains("watch.max-front-watcher-bytes = 65536");
      assertThat(server.metric("cairn_etcd_watcher_bytes")).isEqualTo(6 * 10_160);

      server.clientVertx().runOnContext(v -> call.write(WatchRequest.newBuilder().setCancelRequest(
          io.cairn.proto.etcd.WatchCancelRequest.newBuilder().setWatchId(1)).build()));
      assertThat(answers.poll(10, TimeUnit.SECONDS).getCanceled()).isTrue();
      WatchResponse again = create.apply(8);
      assertThat(again.getCanceled()).as("room again after a cancel").isFalse();
      // the stream's end (a half-close keeps it watching, as on etcd) gives back what its watchers held
      server.clientVertx().runOnContext(v -> call.cancel());
      server.awaitMetric("cairn_etcd_watcher_bytes", v -> v == 0);
    } finally {
      raw.close();
    }
  }

  /**
   * A watch stream whose client takes nothing for {@code watch.stall-timeout} while its watchers wait for it is
   * refused, and what it held is dropped: the front's backlog goes back to zero (it would hold the stream's share
   * of the front's bound for as long as the client stayed connected). Watching again from the last revision seen,
   * as etcd's clients do when their stream is refused, loses nothing.
   */
  @Test
  void aStreamWhoseClientTakesNothingForTheStallTimeoutIsRefusedAndWhatItHeldDropped() throws Exception {
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536", "watch.stall-timeout=1s");
    GrpcClient raw = rawClient();
    try {
      int puts = 30;
      List<Long> received = Collections.synchronizedList(new ArrayList<>());
      GrpcClientResponse<WatchRequest, WatchResponse> stalled =
          rawWatch(raw, "st/", "st0", received, new CountDownLatch(puts));
      stalled.pause();
      byte[] value = new byte[16 * 1024];
      List<String> written = new ArrayList<>();
      long first = 0;
      for (int i = 0; i < puts; i++) {
        long revision = get(kv.put(bs("st/" + (i % 3)), ByteSequence.from(value))).getHeader().getRevision();
        first = first == 0 ? revision : first;
        written.add("PUT st/" + (i % 3));
      }
      server.awaitMetric("cairn_etcd_watchers", v -> v == 0);
      assertThat(server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v == 0)).isZero();

      BlockingQueue<String> again = new LinkedBlockingQueue<>();
      try (Watch.Watcher resumed = watch("st/", WatchOption.builder().isPrefix(true).withRevision(first).build(),
          again)) {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < puts; i++) {
          String event = again.poll(10, TimeUnit.SECONDS);
          assertThat(event).as("event %d of %d", i + 1, puts).isNotNull();
          events.add(event.substring(0, event.indexOf('=')));
        }
        assertThat(events).isEqualTo(written);
      }
    } finally {
      raw.close();
    }
  }

  /**
   * A watch stream whose client writes {@code pairs} creates and cancels as fast as the transport takes them and
   * reads none of the answers until {@link #readAnswers}.
   */
  final class Flood {
    final GrpcClientRequest<WatchRequest, WatchResponse> call;
    final int pairs;
    final List<String> answers = new ArrayList<>();
    final CompletableFuture<GrpcClientResponse<WatchRequest, WatchResponse>> paused = new CompletableFuture<>();
    final CompletableFuture<Void> allAnswered = new CompletableFuture<>();
    final CompletableFuture<Void> allWritten = new CompletableFuture<>();

    Flood(GrpcClient raw, int pairs) throws Exception {
      this.call = watchCall(raw);
      this.pairs = pairs;
      server.clientVertx().runOnContext(v -> {
        call.response().onSuccess(response -> {
          response.pause();
          response.handler(answer -> {
            answers.add((answer.getCanceled() ? "canceled " : "created ") + answer.getWatchId());
            if (answers.size() == 2 * pairs) {
              allAnswered.complete(null);
            }
          });
          paused.complete(response);
        });
        int[] written = {0};
        Runnable[] pump = new Runnable[1];
        pump[0] = () -> {
          while (written[0] < pairs && !call.writeQueueFull()) {
            long id = ++written[0];
            call.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setWatchId(id)
                .setKey(com.google.protobuf.ByteString.copyFromUtf8("unread"))).build());
            call.write(WatchRequest.newBuilder().setCancelRequest(
                io.cairn.proto.etcd.WatchCancelRequest.newBuilder().setWatchId(id)).build());
          }
          if (written[0] == pairs) {
            allWritten.complete(null);
          } else {
            call.drainHandler(d -> pump[0].run());
          }
        };
        pump[0].run();
      });
    }

    /** Reads on: every answer arrives, in order, and the writes finish. */
    void readAnswers() throws Exception {
      GrpcClientResponse<WatchRequest, WatchResponse> response = paused.get(10, TimeUnit.SECONDS);
      server.clientVertx().runOnContext(v -> response.resume());
      allWritten.get(60, TimeUnit.SECONDS);
      allAnswered.get(60, TimeUnit.SECONDS);
      server.clientVertx().runOnContext(v -> call.cancel());
      List<String> expected = new ArrayList<>(2 * pairs);
      for (int id = 1; id <= pairs; id++) {
        expected.add("created " + id);
        expected.add("canceled " + id);
      }
      assertThat(answers).isEqualTo(expected);
    }
  }

  /**
   * Every watch request gets an answer, so a client that sends requests and reads no answers would pile them up in
   * the server: 200,000 creates and cancels held 13 MB of answers against a 1 MiB bound. The stream's requests are
   * read no further while its backlog is full, as etcd's are, and once the client reads it gets every answer.
   */
  @Test
  void aClientThatReadsNoAnswersIsReadNoFurtherThanItsBacklogAndLosesNoAnswer() throws Exception {
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536");
    GrpcClient raw = rawClient();
    try {
      Flood flood = new Flood(raw, 100_000);
      // paused past 64 KiB, the stream reads on only at 32 KiB: where answers stop leaving, it holds more than that
      server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v > 32768);
      assertThatThrownBy(() -> flood.allWritten.get(5, TimeUnit.SECONDS)).as("the server stopped reading")
          .isInstanceOf(java.util.concurrent.TimeoutException.class);
      assertThat(server.metric("cairn_etcd_watch_backlog_bytes")).as("answers held for the client")
          .isLessThan(65536 + 1024);
      flood.readAnswers();
    } finally {
      raw.close();
    }
  }

  /**
   * Many such streams are bounded together, as streams of events are: past the front's bound, a stream's requests
   * are read only while its backlog is within its share of the bound. Eight streams that may hold 64 KiB each held
   * 512 KiB against a 128 KiB bound; now the bound and the shares the streams took as they opened, the bound times
   * 1 + 1/3 + 1/4 + ... + 1/8 (the first two took their 64 KiB within it).
   */
  @Test
  void manyStreamsThatReadNoAnswersAreBoundedTogether() throws Exception {
    int frontBound = 128 * 1024;
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536", "watch.max-front-backlog-bytes=" + frontBound);
    // a connection each: the answers a paused stream leaves unread hold its connection's HTTP/2 window
    List<GrpcClient> clients = new ArrayList<>();
    try {
      // each writes more than the 1 MiB HTTP/2 window the server grants a stream
      List<Flood> floods = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        clients.add(rawClient());
        floods.add(new Flood(clients.get(i), 50_000));
      }
      server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v >= frontBound);
      assertThatThrownBy(() -> CompletableFuture.anyOf(floods.stream().map(f -> f.allWritten)
          .toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS)).as("the server stopped reading them")
          .isInstanceOf(java.util.concurrent.TimeoutException.class);
      assertThat(server.metric("cairn_etcd_watch_backlog_bytes")).as("answers held for the clients")
          .isLessThan(2.25 * frontBound + 8 * 1024);
      for (Flood flood : floods) {
        flood.readAnswers();
      }
    } finally {
      clients.forEach(GrpcClient::close);
    }
  }

  /**
   * A client that closes its side of a watch stream after creating its watchers (grpc-gateway does, after the
   * request) goes on getting their events, as from etcd, until it cancels the stream.
   */
  @Test
  void aWatchStreamItsClientHalfClosesGoesOnWatching() throws Exception {
    GrpcClient raw = rawClient();
    try {
      GrpcClientRequest<WatchRequest, WatchResponse> call = watchCall(raw);
      BlockingQueue<String> answers = new LinkedBlockingQueue<>();
      server.clientVertx().runOnContext(v -> {
        call.response().onSuccess(response -> {
          response.handler(answer -> {
            if (answer.getCreated()) {
              answers.add("created");
            }
            answer.getEventsList().forEach(e -> answers.add(e.getType() + " " + e.getKv().getKey().toStringUtf8()));
          });
          response.endHandler(end -> answers.add("ended " + response.status()));
        });
        call.end(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
            .setKey(com.google.protobuf.ByteString.copyFromUtf8("half/"))
            .setRangeEnd(com.google.protobuf.ByteString.copyFromUtf8("half0"))).build());
      });
      assertThat(answers.poll(10, TimeUnit.SECONDS)).isEqualTo("created");
      get(kv.put(bs("half/1"), bs("a")));
      get(kv.delete(bs("half/1")));
      assertThat(answers.poll(10, TimeUnit.SECONDS)).isEqualTo("PUT half/1");
      assertThat(answers.poll(10, TimeUnit.SECONDS)).isEqualTo("DELETE half/1");
      assertThat(server.awaitMetric("cairn_etcd_watchers", v -> v == 1)).isEqualTo(1);
      server.clientVertx().runOnContext(v -> call.cancel());
      assertThat(server.awaitMetric("cairn_etcd_watchers", v -> v == 0)).isZero();
      assertThat(answers).doesNotContain("ended OK");
    } finally {
      raw.close();
    }
  }

  /**
   * A watch stream its client cancels (RST_STREAM CANCEL, as Go clients do when a watch's context ends, and the
   * JSON gateway when its HTTP client leaves) gives its watchers back at once.
   */
  @Test
  void aWatchStreamItsClientCancelsGivesItsWatchersBack() throws Exception {
    GrpcClient raw = rawClient();
    try {
      GrpcClientRequest<WatchRequest, WatchResponse> call = watchCall(raw);
      CountDownLatch created = new CountDownLatch(1);
      server.clientVertx().runOnContext(v -> {
        call.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
            .setKey(com.google.protobuf.ByteString.copyFromUtf8("cancelled"))).build());
        call.response().onSuccess(response -> response.handler(answer -> {
          if (answer.getCreated()) {
            created.countDown();
          }
        }));
      });
      assertThat(created.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(server.awaitMetric("cairn_etcd_watchers", v -> v == 1)).isEqualTo(1);
      server.clientVertx().runOnContext(v -> call.cancel());
      assertThat(server.awaitMetric("cairn_etcd_watchers", v -> v == 0)).isZero();
    } finally {
      raw.close();
    }
  }

  /**
   * etcd's clients resume a watch stream refused at its stall timeout from the revision they had reached: a client
   * that took nothing for longer than {@code watch.stall-timeout} gets every event, in order and once each, when it
   * reads again, then the later ones. (After a CANCEL reset, jetcd gave the watch up and reported nothing more.)
   */
  @Test
  void aClientThatReadsAgainAfterTheStallTimeoutResumesItsWatchAndLosesNothing() throws Exception {
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536", "watch.stall-timeout=1s");
    long from = get(kv.get(bs("sr/"))).getHeader().getRevision() + 1;
    CountDownLatch reading = new CountDownLatch(1);
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    // jetcd calls the listener on its connection's event loop: while it waits, the client reads nothing
    try (Client stalling = Client.builder().endpoints("http://127.0.0.1:" + server.grpcPort()).build();
         Watch.Watcher w = stalling.getWatchClient().watch(bs("sr/"),
             WatchOption.builder().isPrefix(true).withRevision(from).build(), Watch.listener(r -> {
               try {
                 reading.await();
               } catch (InterruptedException e) {
                 Thread.currentThread().interrupt();
               }
               r.getEvents().forEach(e -> events.add(e.getEventType() + " " + str(e.getKeyValue().getKey())));
             }, e -> errors.add(e.getMessage())))) {
      server.awaitMetric("cairn_etcd_watchers", v -> v == 1);
      int puts = 60;
      List<String> written = new ArrayList<>();
      for (int i = 0; i < puts; i++) {
        String key = "sr/" + (1000 + i);
        get(kv.put(bs(key), ByteSequence.from(new byte[64 * 1024])));
        written.add("PUT " + key);
      }
      server.awaitMetric("cairn_etcd_watchers", v -> v == 0);
      assertThat(server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v == 0)).isZero();

      reading.countDown();
      get(kv.put(bs("sr/2000"), bs("after")));
      written.add("PUT sr/2000");
      assertThat(take(events, written.size())).isEqualTo(written);
      assertThat(errors).singleElement().asString().contains("REFUSED_STREAM");
    }
  }

  /**
   * {@code watch.max-front-backlog-bytes} bounds what the streams of a front hold together. Twelve streams whose
   * client stopped reading, each allowed 64 KiB, hold at most twice the front's 256 KiB between them (without the
   * bound they held twelve times 64 KiB and more). A stream whose client reads gets every event meanwhile, and the
   * stalled ones get every event, in order, once their client reads again.
   */
  @Test
  void theStreamsOfAFrontTogetherHoldAtMostItsBacklogBoundAndLoseNothing() throws Exception {
    int frontBound = 256 * 1024;
    // stalled streams waiting for room count as crowding out the others until they have stalled this long
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536", "watch.max-front-backlog-bytes=" + frontBound,
        "watch.crowded-stall-timeout=1h");
    GrpcClient stalledClient = rawClient();
    GrpcClient readingClient = rawClient();
    int puts = 60;
    int stalledStreams = 12;
    List<List<Long>> stalledReceived = new ArrayList<>();
    CountDownLatch stalledDelivered = new CountDownLatch(puts * stalledStreams);
    List<GrpcClientResponse<WatchRequest, WatchResponse>> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < stalledStreams; i++) {
        List<Long> received = Collections.synchronizedList(new ArrayList<>());
        stalledReceived.add(received);
        GrpcClientResponse<WatchRequest, WatchResponse> stream =
            rawWatch(stalledClient, "fb/", "fb0", received, stalledDelivered);
        stream.pause();
        stalled.add(stream);
      }
      List<Long> revisions = putWhileAClientReads(readingClient, "fb", puts, 4 * 1024);
      assertThat(server.metric("cairn_etcd_watch_backlog_bytes")).as("queued for the stalled clients together")
          .isLessThanOrEqualTo(2.0 * frontBound);

      stalled.forEach(GrpcClientResponse::resume);
      assertThat(stalledDelivered.await(30, TimeUnit.SECONDS)).as("the stalled clients' events").isTrue();
      for (List<Long> received : stalledReceived) {
        assertThat(new ArrayList<>(received)).isEqualTo(revisions);
      }
      server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v == 0);
      assertThat(server.metric("cairn_etcd_watch_streams_waiting")).isZero();
    } finally {
      stalledClient.close();
      readingClient.close();
    }
  }

  /**
   * Stalled streams that hold the front's bound do not starve a stream whose client reads for the whole
   * {@code watch.stall-timeout}: events larger than an even share of the bound (here 32 kB, the share about 20 kB)
   * make the reading stream wait for room, and streams whose clients have taken nothing for
   * {@code watch.crowded-stall-timeout} while it waits are refused. Their clients resume from where they were.
   */
  @Test
  void streamsThatTakeNothingAreRefusedSoonerWhileAReadingStreamWaitsForTheRoomTheyHold() throws Exception {
    int frontBound = 256 * 1024;
    restartWith("front.instances=1", "watch.max-backlog-bytes=65536", "watch.max-front-backlog-bytes=" + frontBound,
        "watch.stall-timeout=1h", "watch.crowded-stall-timeout=1s");
    GrpcClient stalledClient = rawClient();
    GrpcClient readingClient = rawClient();
    int puts = 40;
    int stalledStreams = 12;
    List<GrpcClientResponse<WatchRequest, WatchResponse>> stalled = new ArrayList<>();
    List<List<Long>> stalledReceived = new ArrayList<>();
    List<CompletableFuture<String>> stalledEnds = new ArrayList<>();
    try {
      for (int i = 0; i < stalledStreams; i++) {
        List<Long> received = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<String> end = new CompletableFuture<>();
        GrpcClientResponse<WatchRequest, WatchResponse> stream = rawWatch(stalledClient, "cr/", "cr0", received,
            new CountDownLatch(puts) {
              @Override
              public void countDown() {
                super.countDown();
                if (getCount() == 0) {
                  end.complete("all events");
                }
              }
            });
        stream.exceptionHandler(e -> end.complete(e.toString()));
        stream.pause();
        stalled.add(stream);
        stalledReceived.add(received);
        stalledEnds.add(end);
      }
      List<Long> revisions = putWhileAClientReads(readingClient, "cr", puts, 32 * 1024);

      // once they read again, the stalled streams still open get every event; the refused ones got the first ones
      stalled.forEach(GrpcClientResponse::resume);
      int refused = 0;
      for (int i = 0; i < stalledStreams; i++) {
        String end = stalledEnds.get(i).get(30, TimeUnit.SECONDS);
        List<Long> received = new ArrayList<>(stalledReceived.get(i));
        if (end.equals("all events")) {
          assertThat(received).isEqualTo(revisions);
        } else {
          // refused: Vert.x reports the reset of a paused stream as its closing
          assertThat(end).as("a stalled stream is refused").containsAnyOf("REFUSED_STREAM", "Stream was closed");
          assertThat(received).isEqualTo(revisions.subList(0, received.size()));
          refused++;
        }
      }
      assertThat(refused).as("streams refused to make room").isPositive();
      server.awaitMetric("cairn_etcd_watch_backlog_bytes", v -> v == 0);
    } finally {
      stalledClient.close();
      readingClient.close();
    }
  }

  /**
   * Watchers of one stream whose client stops reading, some alike, one without deletes, one without puts, one with
   * previous values: when the client reads again, each gets exactly its own events, in order, once, however the
   * server grouped their catch-up from history.
   */
  @Test
  void watchersOfAPausedStreamEachCatchUpWithExactlyTheirEvents() throws Exception {
    int alike = 8;
    long noDelete = alike + 1;
    long noPut = alike + 2;
    long withPrevious = alike + 3;
    int writes = 60;
    int deleted = writes / 3;
    Map<Long, List<String>> received = new ConcurrentHashMap<>();
    CountDownLatch created = new CountDownLatch((int) withPrevious);
    // every watcher alike sees all writes, the no-delete one the puts, the no-put one the deletes, the last all
    CountDownLatch allReceived = new CountDownLatch(
        alike * (writes + deleted) + writes + deleted + (writes + deleted));
    GrpcClient raw = rawClient();
    GrpcClientResponse<WatchRequest, WatchResponse> stream = TestServer.await(
        raw.request(SocketAddress.inetSocketAddress(server.grpcPort(), "127.0.0.1"), WatchGrpcClient.Watch)
            .compose(call -> {
              for (long id = 1; id <= withPrevious; id++) {
                WatchCreateRequest.Builder create = WatchCreateRequest.newBuilder().setWatchId(id)
                    .setKey(com.google.protobuf.ByteString.copyFromUtf8("grp/"))
                    .setRangeEnd(com.google.protobuf.ByteString.copyFromUtf8("grp0"));
                if (id == noDelete) {
                  create.addFilters(WatchCreateRequest.FilterType.NODELETE);
                } else if (id == noPut) {
                  create.addFilters(WatchCreateRequest.FilterType.NOPUT);
                } else if (id == withPrevious) {
                  create.setPrevKv(true);
                }
                call.write(WatchRequest.newBuilder().setCreateRequest(create).build());
              }
              return call.response().map(response -> response.handler(r -> {
                if (r.getCreated()) {
                  created.countDown();
                }
                r.getEventsList().forEach(e -> {
                  received.computeIfAbsent(r.getWatchId(), id -> Collections.synchronizedList(new ArrayList<>()))
                      .add(e.getType() + " " + e.getKv().getKey().toStringUtf8() + " " + e.getKv().getModRevision()
                          + (e.hasPrevKv() ? " was " + e.getPrevKv().getModRevision() : ""));
                  allReceived.countDown();
                });
              }));
            }));
    try {
      assertThat(created.await(10, TimeUnit.SECONDS)).isTrue();
      stream.pause();

      List<String> puts = new ArrayList<>();
      List<String> deletes = new ArrayList<>();
      List<String> all = new ArrayList<>();
      List<String> allWithPrevious = new ArrayList<>();
      Map<String, Long> lastPut = new java.util.HashMap<>();
      ByteSequence value = ByteSequence.from(new byte[16 * 1024]);
      for (int i = 0; i < writes; i++) {
        String key = "grp/" + (i % 4);
        long put = get(kv.put(bs(key), value)).getHeader().getRevision();
        Long was = lastPut.put(key, put);
        puts.add("PUT " + key + " " + put);
        all.add("PUT " + key + " " + put);
        allWithPrevious.add("PUT " + key + " " + put + (was == null ? "" : " was " + was));
        if (i % 3 == 0) {
          long delete = get(kv.delete(bs(key))).getHeader().getRevision();
          deletes.add("DELETE " + key + " " + delete);
          all.add("DELETE " + key + " " + delete);
          allWithPrevious.add("DELETE " + key + " " + delete + " was " + lastPut.remove(key));
        }
      }
      assertThat(deletes).hasSize(deleted);
      assertThat(allReceived.getCount()).as("the paused client cannot have received everything").isPositive();

      stream.resume();
      assertThat(allReceived.await(30, TimeUnit.SECONDS)).as("%s events left", allReceived.getCount()).isTrue();
      for (long id = 1; id <= alike; id++) {
        assertThat(received.get(id)).as("watcher %d", id).isEqualTo(all);
      }
      assertThat(received.get(noDelete)).isEqualTo(puts);
      assertThat(received.get(noPut)).isEqualTo(deletes);
      assertThat(received.get(withPrevious)).isEqualTo(allWithPrevious);
    } finally {
      raw.close();
    }
  }

  /** jetcd has no call for LeaseLeases: ask the raw gRPC API. */
  List<Long> leaseIds() throws Exception {
    return server.call(io.cairn.proto.etcd.LeaseGrpcClient.LeaseLeases,
            io.cairn.proto.etcd.LeaseLeasesRequest.getDefaultInstance()).ok()
        .getLeasesList().stream().map(io.cairn.proto.etcd.LeaseStatus::getID).toList();
  }

  @Test
  void leaseGrantAttachTimeToLiveRevoke() throws Exception {
    Lease lease = client.getLeaseClient();
    long id = get(lease.grant(30)).getID();
    get(kv.put(bs("l/a"), bs("1"), PutOption.builder().withLeaseId(id).build()));
    get(kv.put(bs("l/b"), bs("2"), PutOption.builder().withLeaseId(id).build()));
    assertThat(get(kv.get(bs("l/a"))).getKvs().get(0).getLease()).isEqualTo(id);

    LeaseTimeToLiveResponse ttl = get(lease.timeToLive(id, LeaseOption.builder().withAttachedKeys().build()));
    assertThat(ttl.getGrantedTTL()).isEqualTo(30);
    assertThat(ttl.getTTL()).isBetween(1L, 30L);
    assertThat(ttl.getKeys()).extracting(JetcdKvTest::str).containsExactlyInAnyOrder("l/a", "l/b");
    assertThat(get(lease.keepAliveOnce(id)).getTTL()).isEqualTo(30);
    assertThat(leaseIds()).contains(id);

    long before = get(kv.get(bs("l/a"))).getHeader().getRevision();
    long after = get(lease.revoke(id)).getHeader().getRevision();
    assertThat(after).as("both keys go in one revision").isEqualTo(before + 1);
    assertThat(get(kv.get(bs("l/"), GetOption.builder().isPrefix(true).build())).getCount()).isZero();
    assertThat(get(lease.timeToLive(id, LeaseOption.DEFAULT)).getTTL()).isEqualTo(-1);
  }

  @Test
  void putWithUnknownLeaseIsRefusedAsEtcdDoes() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            get(kv.put(bs("l/x"), bs("1"), PutOption.builder().withLeaseId(12345).build())))
        .hasRootCauseMessage("NOT_FOUND: etcdserver: requested lease not found");
  }

  @Test
  void expiredLeaseDeletesItsKeys() throws Exception {
    long id = get(client.getLeaseClient().grant(2)).getID();
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    try (Watch.Watcher w = watch("exp", WatchOption.DEFAULT, events)) {
      get(kv.put(bs("exp"), bs("v"), PutOption.builder().withLeaseId(id).build()));
      assertThat(take(events, 2)).containsExactly("PUT exp=v", "DELETE exp");
    }
    assertThat(get(kv.get(bs("exp"))).getCount()).isZero();
  }

  @Test
  void leasesSurviveARestart() throws Exception {
    long id = get(client.getLeaseClient().grant(600)).getID();
    get(kv.put(bs("keep"), bs("v"), PutOption.builder().withLeaseId(id).build()));
    client.close();
    server = server.restart();
    connect();
    assertThat(leaseIds()).contains(id);
    LeaseTimeToLiveResponse ttl = get(client.getLeaseClient().timeToLive(id,
        LeaseOption.builder().withAttachedKeys().build()));
    assertThat(ttl.getKeys()).extracting(JetcdKvTest::str).containsExactly("keep");
    assertThat(get(kv.get(bs("keep"))).getKvs().get(0).getLease()).isEqualTo(id);
  }

  @Test
  void watchesAndKeepAlivesGoOnAcrossARestartOfTheServer() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    server = server.restart("grpc.port=" + port, "shutdown.timeout=10m");
    client.close();
    connect();
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    BlockingQueue<Long> keptAlive = new LinkedBlockingQueue<>();
    long lease = get(client.getLeaseClient().grant(6)).getID();
    // jetcd tells a watch's listener of every error, also of those on which it resumes the watch
    try (Watch.Watcher w = client.getWatchClient().watch(bs("across/"), WatchOption.builder().isPrefix(true).build(),
             Watch.listener(r -> r.getEvents().forEach(e -> events.add(describe(e))),
                 e -> errors.add(e.getMessage())));
         io.etcd.jetcd.support.CloseableClient k = client.getLeaseClient().keepAlive(lease,
             new io.grpc.stub.StreamObserver<>() {
               public void onNext(io.etcd.jetcd.lease.LeaseKeepAliveResponse r) {
                 keptAlive.add(r.getTTL());
               }

               public void onError(Throwable t) {
               }

               public void onCompleted() {
               }
             })) {
      get(kv.put(bs("across/before"), bs("1")));
      assertThat(take(events, 1)).containsExactly("PUT across/before=1");
      assertThat(keptAlive.poll(10, TimeUnit.SECONDS)).isEqualTo(6);

      // a stop that waited for these streams would take the whole shutdown.timeout, past the restart's 30 s
      server = server.restart("grpc.port=" + port);
      keptAlive.clear();
      get(kv.put(bs("across/after"), bs("2")));
      assertThat(take(events, 1)).as("the watch resumed where it was").containsExactly("PUT across/after=2");
      Long ttl;
      do {
        ttl = keptAlive.poll(10, TimeUnit.SECONDS);
      } while (ttl != null && ttl != 6);
      assertThat(ttl).as("the keep-alive resumed").isEqualTo(6);
      assertThat(events).isEmpty();
      assertThat(errors).containsOnly("etcdserver: server stopped");
    }
  }

  @Test
  void grantsPastMaxLeasesAreRefusedUntilLeasesAreRevoked() throws Exception {
    restartWith("limits.max-leases=3");
    // sent at once: those queued count against the bound before they are granted
    List<TestServer.Reply<io.cairn.proto.etcd.LeaseGrantResponse>> replies = server.callAll(
        io.cairn.proto.etcd.LeaseGrpcClient.LeaseGrant,
        java.util.stream.IntStream.range(0, 10).mapToObj(i -> io.cairn.proto.etcd.LeaseGrantRequest.newBuilder()
            .setTTL(60).build()).toList());
    assertThat(replies).filteredOn(r -> r.status() == io.vertx.grpc.common.GrpcStatus.OK).hasSize(3);
    assertThat(replies).filteredOn(r -> r.status() != io.vertx.grpc.common.GrpcStatus.OK)
        .hasSize(7).allSatisfy(r -> {
          assertThat(r.status()).isEqualTo(io.vertx.grpc.common.GrpcStatus.RESOURCE_EXHAUSTED);
          assertThat(r.message()).isEqualTo("too many leases: 3 are granted (limits.max-leases is 3); revoke "
              + "leases no longer needed, or raise the limit");
        });

    long granted = replies.stream().filter(r -> r.status() == io.vertx.grpc.common.GrpcStatus.OK).findFirst()
        .orElseThrow().body().getID();
    get(client.getLeaseClient().revoke(granted));
    assertThat(get(client.getLeaseClient().grant(60)).getTTL()).as("room again after a revoke").isEqualTo(60);
    assertThat(server.call(io.cairn.proto.etcd.LeaseGrpcClient.LeaseLeases,
        io.cairn.proto.etcd.LeaseLeasesRequest.getDefaultInstance()).ok().getLeasesList()).hasSize(3);
  }
}
