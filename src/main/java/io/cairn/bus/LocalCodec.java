package io.cairn.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

import java.util.List;

/**
 * Pass-by-reference codec: the bus hands the same immutable record object to the consumer, with no copy and no
 * serialization. Cairn's bus never leaves the JVM (replication goes through Raft, not a clustered bus), so the
 * wire methods refuse to run.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {

  private static final List<Class<?>> MESSAGE_TYPES = List.of(
      ReadRequest.class, ReadReply.class, ReadBatch.class, ReadBatchReply.class, WriteRequest.class, WriteReply.class,
      WriteBatch.class, WriteBatchReply.class, StorageStatus.class,
      ClusterInfo.class, CommittedEvents.class, LeaseQuery.KeepAlive.class, LeaseQuery.TimeToLive.class,
      LeaseQuery.ListAll.class, LeaseAnswer.class, AlarmRequest.class, AlarmReply.class, DefragmentRequest.class,
      CursorRequest.Open.class, CursorRequest.Next.class, CursorRequest.Close.class, CursorPage.class,
      SnapshotRequest.Create.class, SnapshotRequest.ListAll.class, SnapshotRequest.Delete.class,
      SnapshotRequest.Release.class, SnapshotInfo.class, SnapshotList.class, WatchInterest.class);

  private final String name;

  private LocalCodec(Class<T> type) {
    this.name = "cairn-local:" + type.getName();
  }

  private LocalCodec(String name) {
    this.name = name;
  }

  /** Messages typed by an interface (the sender's class is private to it) name this codec explicitly. */
  public static final String INTERFACE_CODEC = "cairn-local:interface";

  /** Registers the codec as the default one for every Cairn bus message type, and by name for interfaces. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static void registerAll(EventBus bus) {
    for (Class<?> type : MESSAGE_TYPES) {
      bus.registerDefaultCodec((Class) type, new LocalCodec(type));
    }
    bus.registerCodec(new LocalCodec<>(INTERFACE_CODEC));
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new IllegalStateException(name + " is a local-only codec: Cairn messages never leave the JVM");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new IllegalStateException(name + " is a local-only codec: Cairn messages never leave the JVM");
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
