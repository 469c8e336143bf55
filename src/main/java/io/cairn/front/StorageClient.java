package io.cairn.front;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.KvOp;
import io.cairn.bus.ReadReply;
import io.cairn.bus.ReadRequest;
import io.cairn.bus.StorageStatus;
import io.cairn.bus.WriteReply;
import io.cairn.bus.WriteRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.util.List;

/** The fronts' way to storage: event-bus requests, failures translated into {@link CairnException}. */
public final class StorageClient {

  private final Vertx vertx;

  public StorageClient(Vertx vertx) {
    this.vertx = vertx;
  }

  public Future<ReadReply> read(List<KvOp> ops, long timeoutMs) {
    return vertx.eventBus().<ReadReply>request(Addresses.STORAGE_READ, new ReadRequest(ops), options(timeoutMs))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)));
  }

  public Future<WriteReply> write(List<KvOp> ops, long timeoutMs) {
    return vertx.eventBus().<WriteReply>request(Addresses.STORAGE_WRITE, new WriteRequest(ops), options(timeoutMs))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)));
  }

  public Future<StorageStatus> status() {
    return vertx.eventBus().<StorageStatus>request(Addresses.STORAGE_STATUS, null, options(5000))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)));
  }

  private static DeliveryOptions options(long timeoutMs) {
    return new DeliveryOptions().setSendTimeout(timeoutMs);
  }
}
