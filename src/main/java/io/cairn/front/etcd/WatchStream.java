package io.cairn.front.etcd;

import io.cairn.bus.CairnException;
import io.cairn.bus.CommittedEvents;
import io.cairn.bus.Event;
import io.cairn.bus.KeyRanges;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.MvccErrors;
import io.cairn.bus.ReadReply;
import io.cairn.front.OpenStreams;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.cairn.proto.etcd.WatchCreateRequest;
import io.cairn.proto.etcd.WatchRequest;
import io.cairn.proto.etcd.WatchResponse;
import io.vertx.core.AsyncResult;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One etcd Watch stream with its watchers. A watcher is either synced (it takes live events from the hub) or
 * catching up (it reads history from storage, one bounded page at a time, and rejoins the live flow when it has
 * reached the latest revision). Answers the client has not taken yet (its HTTP/2 window is full) wait in the
 * stream's queue up to {@code watch.max-backlog-bytes} (1 MiB by default), as etcd keeps a bounded buffer per
 * stream; past that, every watcher of the stream drops to catching up, and nothing more is queued for the slow client
 * than one watcher's delivery or page. A window stall of a client that reads (its window is 64 KiB by default) is
 * absorbed; a client that stopped reading is not fed. The same happens to a stream while its front's streams together
 * hold more than {@code watch.max-front-backlog-bytes}; it then catches up when the {@link WatchHub} has room again.
 */
final class WatchStream implements OpenStreams.Stream {

  private static final Logger LOG = LoggerFactory.getLogger(WatchStream.class);
  static final int HISTORY_PAGE_EVENTS = 1000;
  static final int HISTORY_PAGE_BYTES = 4 << 20;
  static final int WATCHER_BYTES = 160;
  private static final String DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";

  private final Vertx vertx;
  private final WatchHub hub;
  private final StorageClient storage;
  private final EtcdConvert convert;
  private final int fragmentBytes;
  private final GrpcServerRequest<WatchRequest, WatchResponse> request;
  private final GrpcServerResponse<WatchRequest, WatchResponse> response;
  private final Map<Long, Watcher> watchers = new LinkedHashMap<>();
  private OpenStreams openStreams;
  private OpenStreams.Opened opened;
  private long nextAutoId;
  private boolean closed;
  private boolean waitingForDrain;
  /**
   * The client's requests are not read while the stream's backlog is full, or past its share of the front's bound
   * ({@link WatchHub#mayQueue}): each would add an answer to it.
   */
  private boolean requestsPaused;
  /** Bytes of answers written to the response and not yet sent on the connection. */
  private long backlogBytes;
  /** Armed while the stream's watchers wait for a client that takes nothing; -1: not armed. */
  private long stallTimer = -1;
  /** While the stall timer is armed: since when the client has taken nothing ({@link System#nanoTime}). */
  private long stalledSinceNanos;

  private static final class Watcher {
    final long id;
    final byte[] start;
    /** null: the start key alone; empty: no upper bound. */
    final byte[] end;
    final boolean noPut;
    final boolean noDelete;
    final boolean prevKv;
    final boolean progressNotify;
    final boolean fragment;
    /** What it holds: its key and range end, and about {@link #WATCHER_BYTES} for the rest. */
    final long bytes;
    long nextRevision;
    boolean synced;
    boolean reading;
    boolean sentSinceTick;

    Watcher(long id, WatchCreateRequest c, long nextRevision) {
      this.id = id;
      this.start = c.getKey().toByteArray();
      this.end = EtcdConvert.end(c.getRangeEnd());
      this.noPut = c.getFiltersList().contains(WatchCreateRequest.FilterType.NOPUT);
      this.noDelete = c.getFiltersList().contains(WatchCreateRequest.FilterType.NODELETE);
      this.prevKv = c.getPrevKv();
      this.progressNotify = c.getProgressNotify();
      this.fragment = c.getFragment();
      this.bytes = WATCHER_BYTES + start.length + (end == null ? 0 : end.length);
      this.nextRevision = nextRevision;
    }

    boolean wants(Event e) {
      if (e.revision() < nextRevision) {
        return false;
      }
      if (e.type() == Event.Type.PUT ? noPut : noDelete) {
        return false;
      }
      return KeyRanges.contains(e.kv().key(), start, end);
    }
  }

  WatchStream(Vertx vertx, WatchHub hub, StorageClient storage, EtcdConvert convert, int fragmentBytes,
              GrpcServerRequest<WatchRequest, WatchResponse> request) {
    this.vertx = vertx;
    this.hub = hub;
    this.storage = storage;
    this.convert = convert;
    this.fragmentBytes = fragmentBytes;
    this.request = request;
    this.response = request.response();
  }

  void start(OpenStreams openStreams) {
    this.openStreams = openStreams;
    hub.add(this);
    request.handler(this::onRequest);
    request.exceptionHandler(e -> {
      LOG.debug("watch stream closed: {}", e.toString());
      close();
    });
    // vertx-grpc tells of a stream its client reset (a Go client's cancelled context) only here
    request.errorHandler(error -> {
      LOG.debug("watch stream reset by its client: {}", error);
      close();
    });
    // a client that half-closes still watches, as on etcd (grpc-gateway closes its side after the request)
    request.endHandler(v -> { });
    response.exceptionHandler(e -> close());
    opened = openStreams.opened(request.connection(), this);
  }

  /**
   * Ends the stream with etcd's status for a stopping server, after the answers already written: etcd's clients
   * take it as a sign to resume their watches elsewhere or after the restart, from the revision they had reached.
   * While answers still wait to be sent, the status would wait behind them, and the stop for them: the stream is
   * refused instead, on which the clients resume as well.
   */
  @Override
  public void frontStopping() {
    if (closed) {
      return;
    }
    boolean answersWaiting = backlogBytes > 0;
    close();
    if (answersWaiting) {
      opened.refuse();
    } else {
      RpcGuard.fail(request, EtcdErrors.serverStopped());
    }
  }

  int size() {
    return watchers.size();
  }

  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopStallTimer();
    watchers.values().forEach(w -> hub.watcherRemoved(w.bytes));
    watchers.clear();
    hub.remove(this);
    openStreams.closed(request.connection(), this);
  }

  private void onRequest(WatchRequest message) {
    if (closed) {
      return;
    }
    switch (message.getRequestUnionCase()) {
      case CREATE_REQUEST -> create(message.getCreateRequest());
      case CANCEL_REQUEST -> cancel(message.getCancelRequest().getWatchId());
      case PROGRESS_REQUEST -> send(WatchResponse.newBuilder().setHeader(convert.header(hub.revision()))
          .setWatchId(-1).build());
      default -> { }
    }
  }

  private void create(WatchCreateRequest c) {
    long id = c.getWatchId();
    WatchResponse.Builder created = WatchResponse.newBuilder().setHeader(convert.header(hub.revision()))
        .setCreated(true);
    if (id != 0 && watchers.containsKey(id)) {
      send(created.setWatchId(id).setCanceled(true).setCancelReason(DUPLICATE_ID).build());
      return;
    }
    if (id == 0) {
      while (watchers.containsKey(nextAutoId)) {
        nextAutoId++;
      }
      id = nextAutoId++;
    }
    long from = c.getStartRevision() > 0 ? c.getStartRevision() : hub.revision() + 1;
    Watcher w = new Watcher(id, c, from);
    if (!hub.addWatcher(w.bytes)) {
      send(created.setWatchId(id).setCanceled(true).setCancelReason(hub.watcherRefusal(w.bytes)).build());
      return;
    }
    watchers.put(id, w);
    send(created.setWatchId(id).build());
    if (from <= hub.revision()) {
      catchUp(List.of(w));
    } else {
      w.synced = true;
    }
  }

  private void cancel(long id) {
    if (removeWatcher(id) != null) {
      send(WatchResponse.newBuilder().setHeader(convert.header(hub.revision())).setWatchId(id).setCanceled(true)
          .build());
    }
  }

  private Watcher removeWatcher(long id) {
    Watcher w = watchers.remove(id);
    if (w != null) {
      hub.watcherRemoved(w.bytes);
    }
    return w;
  }

  /**
   * Live events from the hub, for the watchers that are synced. A commit whose events were too large to carry sends
   * every synced watcher to history for them.
   */
  void deliver(CommittedEvents committed) {
    if (closed) {
      return;
    }
    if (!committed.complete()) {
      List<Watcher> behind = watchers.values().stream().filter(w -> w.synced).toList();
      behind.forEach(w -> w.synced = false);
      if (!waitingForDrain) {
        catchUp(behind);
      }
      return;
    }
    for (Watcher w : watchers.values().toArray(new Watcher[0])) {
      if (!w.synced) {
        continue;
      }
      if (waitingForDrain) {
        w.synced = false;
        continue;
      }
      List<Event> wanted = new ArrayList<>();
      for (Event e : committed.events()) {
        if (w.wants(e)) {
          wanted.add(e);
        }
      }
      if (!wanted.isEmpty() && !mayQueue(wanted, w.prevKv)) {
        slowClient();
        continue;
      }
      w.nextRevision = Math.max(w.nextRevision, committed.revision() + 1);
      if (!wanted.isEmpty()) {
        sendEvents(w, committed.revision(), wanted);
      }
    }
    if (backlogFull()) {
      slowClient();
    }
  }

  /**
   * The client is not reading, or the front's streams hold too much: stop sending live events; catch up once half
   * the stream's backlog has been sent and the hub has room.
   */
  private void slowClient() {
    if (waitingForDrain) {
      return;
    }
    waitingForDrain = true;
    watchers.values().forEach(w -> w.synced = false);
    clientMustTake();
    if (drained()) {
      catchUpWhenRoom();
    }
  }

  /**
   * The watchers wait with answers the client has not taken: if it takes nothing for {@code watch.stall-timeout},
   * or for {@code watch.crowded-stall-timeout} while another stream waits for the room this one holds, the stream is
   * refused, which drops them and gives their room to the front's other streams (an error status would wait behind
   * them). Once they read again, etcd's clients resume their watches from the revision they had reached.
   */
  private void clientMustTake() {
    if (stallTimer >= 0 || backlogBytes == 0 || closed) {
      return;
    }
    stalledSinceNanos = System.nanoTime();
    checkStallIn(hub.crowdedStallTimeoutMs());
  }

  private void checkStallIn(long delayMs) {
    stallTimer = vertx.setTimer(Math.max(1, delayMs), id -> {
      stallTimer = -1;
      if (closed) {
        return;
      }
      long now = System.nanoTime();
      long stalledMs = TimeUnit.NANOSECONDS.toMillis(now - stalledSinceNanos);
      if (stalledMs >= hub.stallTimeoutMs()) {
        LOG.debug("watch stream refused: its client took nothing for {} ms (watch.stall-timeout)", stalledMs);
      } else if (hub.crowdedOut(this, now)) {
        LOG.debug("watch stream refused: its client took nothing for {} ms while another stream waited for the "
            + "room it held (watch.crowded-stall-timeout)", stalledMs);
      } else {
        checkStallIn(Math.min(hub.crowdedStallTimeoutMs(), hub.stallTimeoutMs() - stalledMs));
        return;
      }
      close();
      opened.refuse();
    });
  }

  /** Whether the stream's client has taken nothing of its answers for {@code nanos} or longer. */
  boolean stalledFor(long nanos, long nowNanos) {
    return stallTimer >= 0 && nowNanos - stalledSinceNanos >= nanos;
  }

  private void stopStallTimer() {
    if (stallTimer >= 0) {
      vertx.cancelTimer(stallTimer);
      stallTimer = -1;
    }
  }

  private boolean backlogFull() {
    return backlogBytes > hub.maxBacklogBytes();
  }

  /** Whether a watcher's answer carrying these events may be queued, by the stream's bound and the front's. */
  private boolean mayQueue(List<Event> events, boolean withPrev) {
    return !backlogFull() && hub.mayQueue(backlogBytes, estimatedBytes(events, withPrev));
  }

  /** About the bytes of an answer carrying these events: their keys and values, and a little for the rest. */
  private static long estimatedBytes(List<Event> events, boolean withPrev) {
    long bytes = 64;
    for (Event e : events) {
      bytes += 48 + e.kv().key().length + e.kv().value().length;
      if (withPrev && e.prev() != null) {
        bytes += 48 + e.prev().key().length + e.prev().value().length;
      }
    }
    return bytes;
  }

  private boolean drained() {
    return backlogBytes <= hub.maxBacklogBytes() / 2;
  }

  /** Half the backlog sent: the watchers that fell behind catch up, once the hub has room. */
  private void sent(int bytes) {
    backlogBytes -= bytes;
    if (stallTimer >= 0) {
      // the client took something: it has the whole timeout again
      stopStallTimer();
      if (waitingForDrain) {
        clientMustTake();
      }
    }
    if (requestsPaused && !closed && drained() && hub.mayReadRequests(backlogBytes)) {
      requestsPaused = false;
      request.resume();
    }
    if (waitingForDrain && !closed && drained()) {
      catchUpWhenRoom();
    }
    hub.backlogChanged(-bytes);
  }

  private void catchUpWhenRoom() {
    if (hub.mayCatchUp(this)) {
      roomFreed();
    }
  }

  /** The hub has room again (or had it at once): the watchers that fell behind catch up. */
  void roomFreed() {
    if (closed || !waitingForDrain) {
      return;
    }
    waitingForDrain = false;
    catchUp(watchers.values().stream().filter(w -> !w.synced && !w.reading).toList());
  }

  /** What a page of history is read for: watchers that agree on it share one read. */
  private record HistoryPage(long from, ByteBuffer start, ByteBuffer end, boolean prevKv) {
    static HistoryPage of(Watcher w) {
      return new HistoryPage(w.nextRevision, ByteBuffer.wrap(w.start), w.end == null ? null : ByteBuffer.wrap(w.end),
          w.prevKv);
    }
  }

  /**
   * Catches the watchers up from history, one read per group of watchers after the same page (a stream's watchers
   * of one key, thrown back together when the client fell behind, read it once, not once each).
   */
  private void catchUp(List<Watcher> behind) {
    Map<HistoryPage, List<Watcher>> groups = new LinkedHashMap<>();
    for (Watcher w : behind) {
      groups.computeIfAbsent(HistoryPage.of(w), page -> new ArrayList<>()).add(w);
    }
    groups.values().forEach(this::catchUpGroup);
  }

  private void catchUpGroup(List<Watcher> group) {
    Watcher first = group.get(0);
    for (Watcher w : group) {
      w.synced = false;
      w.reading = true;
    }
    KvOp.History page = new KvOp.History(first.nextRevision, first.start, first.end, HISTORY_PAGE_EVENTS,
        hub.pageBytes(), first.prevKv);
    hub.pageReadStarted();
    storage.read(List.of(page), RpcGuard.DEFAULT_TIMEOUT_MS).onComplete(ar -> {
      try {
        handlePage(group, first.nextRevision, ar);
      } finally {
        hub.pageReadEnded();
      }
    });
  }

  private void handlePage(List<Watcher> group, long from, AsyncResult<ReadReply> ar) {
    List<Watcher> current = new ArrayList<>(group.size());
    for (Watcher w : group) {
      w.reading = false;
      if (watchers.get(w.id) == w) {
        current.add(w);
      }
    }
    if (closed || current.isEmpty()) {
      return;
    }
    if (ar.failed()) {
      CairnException e = CairnException.from(ar.cause());
      LOG.warn("watch {}: reading history from revision {} failed, cancelled: {}",
          current.stream().map(w -> String.valueOf(w.id)).collect(Collectors.joining(", ")),
          from, e.getMessage());
      for (Watcher w : current) {
        removeWatcher(w.id);
        send(WatchResponse.newBuilder().setHeader(convert.header(hub.revision())).setWatchId(w.id)
            .setCanceled(true).setCancelReason(e.getMessage()).build());
      }
      return;
    }
    KvResult.Events events = (KvResult.Events) ar.result().results().get(0);
    if (events.compacted()) {
      for (Watcher w : current) {
        removeWatcher(w.id);
        send(WatchResponse.newBuilder().setHeader(convert.header(events.readRevision())).setWatchId(w.id)
            .setCanceled(true).setCompactRevision(events.compactRevision()).setCancelReason(MvccErrors.COMPACTED)
            .build());
      }
      return;
    }
    long revision = Math.max(events.readRevision(), hub.revision());
    List<Watcher> stillBehind = new ArrayList<>();
    boolean sentAny = false;
    for (Watcher w : current) {
      List<Event> wanted = new ArrayList<>();
      for (Event e : events.events()) {
        if (w.wants(e)) {
          wanted.add(e);
        }
      }
      // The rest of the group waits, unsent, for the catch-up after the drain: no more than a page is queued. The
      // first watcher's page goes out past the front's bound, so that a stream the hub let go always gets somewhere.
      if (backlogFull() || sentAny && !wanted.isEmpty() && !mayQueue(wanted, w.prevKv)) {
        slowClient();
        return;
      }
      if (!wanted.isEmpty()) {
        sentAny = true;
        sendEvents(w, revision, wanted);
      }
      w.nextRevision = Math.max(w.nextRevision, events.nextRevision());
      if (w.nextRevision <= hub.revision()) {
        stillBehind.add(w);
      } else {
        w.synced = true;
      }
    }
    if (backlogFull() || hub.full()) {
      slowClient();
      return;
    }
    if (!stillBehind.isEmpty()) {
      catchUp(stillBehind);
    }
  }

  /**
   * Sends events in responses of about {@code fragmentBytes} at most, never splitting one revision's events across
   * responses, except for a watcher that asked for etcd's fragmenting (then a revision too large for one response
   * goes out in consecutive responses, all but the last marked as fragments).
   */
  private void sendEvents(Watcher w, long revision, List<Event> events) {
    w.sentSinceTick = true;
    WatchResponse.Builder batch = newResponse(w, revision);
    int batchBytes = 0;
    int i = 0;
    while (i < events.size()) {
      long rev = events.get(i).revision();
      List<io.cairn.proto.etcd.mvcc.Event> group = new ArrayList<>();
      int groupBytes = 0;
      for (; i < events.size() && events.get(i).revision() == rev; i++) {
        io.cairn.proto.etcd.mvcc.Event e = EtcdConvert.event(events.get(i), w.prevKv);
        group.add(e);
        groupBytes += e.getSerializedSize() + 8;
      }
      if (batch.getEventsCount() > 0 && batchBytes + groupBytes > fragmentBytes) {
        send(batch.build());
        batch = newResponse(w, revision);
        batchBytes = 0;
      }
      if (groupBytes > fragmentBytes && w.fragment) {
        sendFragments(w, revision, group);
        continue;
      }
      batch.addAllEvents(group);
      batchBytes += groupBytes;
    }
    if (batch.getEventsCount() > 0) {
      send(batch.build());
    }
  }

  private WatchResponse.Builder newResponse(Watcher w, long revision) {
    return WatchResponse.newBuilder().setHeader(convert.header(revision)).setWatchId(w.id);
  }

  private void sendFragments(Watcher w, long revision, List<io.cairn.proto.etcd.mvcc.Event> group) {
    WatchResponse.Builder part = newResponse(w, revision).setFragment(true);
    int size = 0;
    for (var e : group) {
      int eventSize = e.getSerializedSize() + 8;
      if (part.getEventsCount() > 0 && size + eventSize > fragmentBytes) {
        send(part.build());
        part = newResponse(w, revision).setFragment(true);
        size = 0;
      }
      part.addEvents(e);
      size += eventSize;
    }
    send(part.setFragment(false).build());
  }

  /** etcd's progress notification: an empty response at the current revision for idle synced watchers. */
  void progressTick() {
    for (Watcher w : watchers.values().toArray(new Watcher[0])) {
      if (w.progressNotify && w.synced && !w.sentSinceTick) {
        send(WatchResponse.newBuilder().setHeader(convert.header(hub.revision())).setWatchId(w.id).build());
      }
      w.sentSinceTick = false;
    }
  }

  private void send(WatchResponse message) {
    if (closed) {
      return;
    }
    int bytes = message.getSerializedSize();
    try {
      backlogBytes += bytes;
      hub.backlogChanged(bytes);
      response.write(message).onComplete(written -> sent(bytes));
      if (!requestsPaused && (backlogFull() || !hub.mayQueue(backlogBytes, 0))) {
        requestsPaused = true;
        request.pause();
      }
    } catch (RuntimeException e) {
      backlogBytes -= bytes;
      hub.backlogChanged(-bytes);
      if (!RpcGuard.clientLeft(e)) {
        throw e;
      }
      close();
    }
  }
}
