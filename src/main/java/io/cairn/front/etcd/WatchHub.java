package io.cairn.front.etcd;

import io.cairn.bus.CommittedEvents;
import io.cairn.bus.WatchInterest;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The watch streams of one front instance, on its event loop. While it has a stream it receives every commit's
 * events once, from the bus, and hands them to each stream; a stream that cannot keep up stops taking live events
 * and catches up from history instead, so nothing here ever waits for a slow client. Storage publishes events only
 * while some front has a stream ({@link WatchInterest}): a hub that had none learns the revision it missed when a
 * stream opens, before it uses it.
 */
final class WatchHub {

  private final Set<WatchStream> streams = new LinkedHashSet<>();
  private final int maxBacklogBytes;
  /**
   * Answers its streams have written and not yet sent. Read off the event loop by the metrics page, like RpcGuard's
   * counts: a plain field, so that the watch fan-out pays no fence per answer.
   */
  private long backlogBytes;
  private WatchInterest interest;
  private long revision;

  /** {@code maxBacklogBytes}: {@code watch.max-backlog-bytes}, each stream's bound on answers not yet sent. */
  WatchHub(int maxBacklogBytes) {
    this.maxBacklogBytes = maxBacklogBytes;
  }

  int maxBacklogBytes() {
    return maxBacklogBytes;
  }

  void backlogChanged(long bytes) {
    backlogBytes += bytes;
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
