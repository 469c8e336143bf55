package io.cairn.front.etcd;

import io.cairn.bus.CommittedEvents;
import io.cairn.bus.WatchInterest;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The watch streams of one front instance, on its event loop. While it has a stream it receives every commit's
 * events once, from the bus, and hands them to each stream; a stream that cannot keep up stops taking live events
 * and catches up from history instead, so nothing here ever waits for a slow client. Storage publishes events only
 * while some front has a stream ({@link WatchInterest}): a hub that had none learns the revision it missed when a
 * stream opens, before it uses it.
 *
 * <p>Its streams together hold about {@code watch.max-front-backlog-bytes} of answers not yet sent, at most twice
 * that while their number holds ({@link #mayQueue}): a stream that may not queue a watcher's answer stops feeding its watchers live events, as
 * if its own client had stopped reading, and waits here, first come first served, for room to catch them up from
 * history. Streams are let go while the backlog, with a page for every history read under way, stays within half
 * the bound; each may queue its first page past it.
 */
final class WatchHub {

  private final Set<WatchStream> streams = new LinkedHashSet<>();
  private final Set<WatchStream> waitingForRoom = new LinkedHashSet<>();
  private final int maxBacklogBytes;
  private final long maxFrontBacklogBytes;
  private final long stallTimeoutMs;
  private final long crowdedStallTimeoutMs;
  private final long maxWatcherBytes;
  private long watcherBytes;
  private int pagesReading;
  private boolean waking;
  /**
   * Answers its streams have written and not yet sent. Read off the event loop by the metrics page, like RpcGuard's
   * counts: a plain field, so that the watch fan-out pays no fence per answer.
   */
  private long backlogBytes;
  private WatchInterest interest;
  private long revision;

  /**
   * {@code maxBacklogBytes}: {@code watch.max-backlog-bytes}, each stream's bound on answers not yet sent;
   * {@code maxFrontBacklogBytes}: {@code watch.max-front-backlog-bytes}, the bound on all of them together;
   * {@code stallTimeoutMs}: {@code watch.stall-timeout}; {@code crowdedStallTimeoutMs}:
   * {@code watch.crowded-stall-timeout}; {@code maxWatcherBytes}: {@code watch.max-front-watcher-bytes}.
   */
  WatchHub(int maxBacklogBytes, long maxFrontBacklogBytes, long stallTimeoutMs, long crowdedStallTimeoutMs,
           long maxWatcherBytes) {
    this.maxBacklogBytes = maxBacklogBytes;
    this.maxFrontBacklogBytes = maxFrontBacklogBytes;
    this.stallTimeoutMs = stallTimeoutMs;
    this.crowdedStallTimeoutMs = Math.min(crowdedStallTimeoutMs, stallTimeoutMs);
    this.maxWatcherBytes = maxWatcherBytes;
  }

  /** The default of {@code watch.max-front-watcher-bytes}: a sixteenth of the maximum heap, shared by the fronts. */
  static long defaultMaxWatcherBytes(int fronts) {
    return Math.max(1, Runtime.getRuntime().maxMemory() / 16 / fronts);
  }

  /** Counts a new watcher of {@code bytes}; false, counting nothing, when the front's watchers hold too much. */
  boolean addWatcher(long bytes) {
    if (watcherBytes > 0 && watcherBytes + bytes > maxWatcherBytes) {
      return false;
    }
    watcherBytes += bytes;
    return true;
  }

  void watcherRemoved(long bytes) {
    watcherBytes -= bytes;
  }

  long watcherBytes() {
    return watcherBytes;
  }

  /** Why a watcher of {@code bytes} was not created. */
  String watcherRefusal(long bytes) {
    return "the watchers of this server's front hold " + watcherBytes + " bytes of keys and ranges, and this one "
        + "would add " + bytes + " (watch.max-front-watcher-bytes = " + maxWatcherBytes + "): cancel watchers no "
        + "longer needed, or watch a prefix instead of many keys";
  }

  long stallTimeoutMs() {
    return stallTimeoutMs;
  }

  long crowdedStallTimeoutMs() {
    return crowdedStallTimeoutMs;
  }

  /**
   * Whether a stream whose client has taken nothing for {@code watch.crowded-stall-timeout} holds room another
   * stream needs: one waits for room whose client has not stalled that long (a client that reads empties its
   * stream's backlog, or at least takes something, which starts its stall anew).
   */
  boolean crowdedOut(WatchStream stalled, long nowNanos) {
    long crowdedNanos = crowdedStallTimeoutMs * 1_000_000;
    for (WatchStream waiting : waitingForRoom) {
      if (waiting != stalled && !waiting.stalledFor(crowdedNanos, nowNanos)) {
        return true;
      }
    }
    return false;
  }

  /** The default of {@code watch.max-front-backlog-bytes}: an eighth of the maximum heap, shared by the fronts. */
  static long defaultMaxFrontBacklogBytes(int fronts) {
    return Math.max(1, Runtime.getRuntime().maxMemory() / 8 / fronts);
  }

  int maxBacklogBytes() {
    return maxBacklogBytes;
  }

  /** Whether the streams together hold more than the front's bound. */
  boolean full() {
    return backlogBytes > maxFrontBacklogBytes;
  }

  /**
   * Whether a stream holding {@code streamBacklog} may queue about {@code bytes} more: while the front's bound has
   * room for them, or within the stream's even share of it. The shares keep streams whose clients read going while
   * others that stopped hold the rest; together the streams hold at most twice the bound while their number holds.
   * A stream keeps what it took when more streams open and the shares shrink: streams opening one after another
   * under load hold up to the bound times 1 + 1/2 + ... + 1/n.
   */
  boolean mayQueue(long streamBacklog, long bytes) {
    return backlogBytes + bytes <= maxFrontBacklogBytes
        || streamBacklog + bytes <= maxFrontBacklogBytes / Math.max(1, streams.size());
  }

  /**
   * Whether a stream whose requests were paused past its share ({@link #mayQueue}) may read them again: once the
   * front has room, or the stream holds half its share, so that it reads more than one request at a time.
   */
  boolean mayReadRequests(long streamBacklog) {
    return backlogBytes <= maxFrontBacklogBytes
        || streamBacklog <= maxFrontBacklogBytes / Math.max(1, streams.size()) / 2;
  }

  void backlogChanged(long bytes) {
    backlogBytes += bytes;
    if (bytes < 0) {
      wakeWaiting();
    }
  }

  /**
   * Whether a stream whose watchers stopped may catch them up now. If not, it waits behind the streams already
   * waiting and is called back ({@link WatchStream#roomFreed}) in its turn; asking again keeps its place.
   */
  boolean mayCatchUp(WatchStream stream) {
    if (waitingForRoom.isEmpty() && hasRoom()) {
      return true;
    }
    waitingForRoom.add(stream);
    return false;
  }

  /**
   * The bytes of a history page: {@link WatchStream#HISTORY_PAGE_BYTES}, or a quarter of the front's bound when that
   * is smaller, so that the pages of the streams it lets go fit in it (a page holds at least one revision).
   */
  int pageBytes() {
    return (int) Math.min(WatchStream.HISTORY_PAGE_BYTES, Math.max(1, maxFrontBacklogBytes / 4));
  }

  /** A history page is being read for some stream: until it has been handled, count it as held. */
  void pageReadStarted() {
    pagesReading++;
  }

  void pageReadEnded() {
    pagesReading--;
    wakeWaiting();
  }

  int streamsWaiting() {
    return waitingForRoom.size();
  }

  private boolean hasRoom() {
    long half = maxFrontBacklogBytes / 2;
    return backlogBytes + (long) pagesReading * pageBytes() <= half
        || pagesReading == 0 && backlogBytes <= half;
  }

  private void wakeWaiting() {
    if (waking) {
      return;
    }
    waking = true;
    try {
      while (!waitingForRoom.isEmpty() && hasRoom()) {
        Iterator<WatchStream> first = waitingForRoom.iterator();
        WatchStream stream = first.next();
        first.remove();
        stream.roomFreed();
      }
    } finally {
      waking = false;
    }
  }

  long backlogBytes() {
    return backlogBytes;
  }

  void listenThrough(WatchInterest interest) {
    this.interest = interest;
  }

  /** The store's revision when the hub started listening; commits seen since may have moved past it. */
  void advanceTo(long storeRevision) {
    revision = Math.max(revision, storeRevision);
  }

  /** The latest revision whose events reached this front. */
  long revision() {
    return revision;
  }

  /**
   * A hub that had no stream may have missed commits (storage publishes none while no front has a stream): it takes
   * up the store's revision, which every later commit's events follow. A hub that had streams is current already,
   * and must not move past events still on their way to its watchers: a progress notification at a revision
   * promises that every event up to it has been sent.
   */
  void add(WatchStream stream) {
    boolean first = streams.isEmpty();
    if (streams.add(stream)) {
      long storeRevision = interest.streamOpened();
      if (first) {
        advanceTo(storeRevision);
      }
    }
  }

  void remove(WatchStream stream) {
    waitingForRoom.remove(stream);
    if (streams.remove(stream)) {
      interest.streamClosed();
    }
  }

  int watchers() {
    return streams.stream().mapToInt(WatchStream::size).sum();
  }

  void publish(CommittedEvents committed) {
    advanceTo(committed.revision());
    for (WatchStream stream : streams.toArray(new WatchStream[0])) {
      stream.deliver(committed);
    }
  }

  void progressTick() {
    for (WatchStream stream : streams.toArray(new WatchStream[0])) {
      stream.progressTick();
    }
  }
}
