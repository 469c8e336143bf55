package io.cairn.front;

import io.cairn.bus.Addresses;
import io.cairn.bus.AlarmReply;
import io.cairn.bus.AlarmRequest;
import io.cairn.bus.CairnException;
import io.cairn.bus.CursorPage;
import io.cairn.bus.CursorRequest;
import io.cairn.bus.DefragmentRequest;
import io.cairn.bus.KvOp;
import io.cairn.bus.LeaseAnswer;
import io.cairn.bus.LeaseQuery;
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
    return request(Addresses.STORAGE_READ, new ReadRequest(ops), timeoutMs);
  }

  public Future<WriteReply> write(List<KvOp> ops, long timeoutMs) {
    return request(Addresses.STORAGE_WRITE, new WriteRequest(ops), timeoutMs);
  }

  /** One step of a streaming read; a page, or null for a close. */
  public Future<CursorPage> cursor(CursorRequest request, long timeoutMs) {
    return request(Addresses.STORAGE_CURSOR, request, timeoutMs);
  }

  public Future<StorageStatus> status() {
    return request(Addresses.STORAGE_STATUS, null, 5000);
  }

  public Future<LeaseAnswer> lease(LeaseQuery query, long timeoutMs) {
    return request(Addresses.STORAGE_LEASE, query, timeoutMs);
  }

  public Future<AlarmReply> alarm(AlarmRequest request, long timeoutMs) {
    return request(Addresses.STORAGE_ALARM, request, timeoutMs);
  }

  public Future<StorageStatus> defragment(long timeoutMs) {
    return request(Addresses.STORAGE_DEFRAGMENT, new DefragmentRequest(), timeoutMs);
  }

  private <T> Future<T> request(String address, Object body, long timeoutMs) {
    return vertx.eventBus().<T>request(address, body, options(timeoutMs))
        .map(Message::body)
        .recover(e -> Future.failedFuture(CairnException.from(e)));
  }

  private static DeliveryOptions options(long timeoutMs) {
    return new DeliveryOptions().setSendTimeout(timeoutMs);
  }
}
