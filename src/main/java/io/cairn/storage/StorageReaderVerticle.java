package io.cairn.storage;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.ReadRequest;
import io.cairn.bus.ErrorCode;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A worker verticle serving reads from a consistent RocksDB snapshot; several run in parallel. */
final class StorageReaderVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(StorageReaderVerticle.class);

  private final MvccStore store;

  StorageReaderVerticle(MvccStore store) {
    this.store = store;
  }

  @Override
  public void start() {
    vertx.eventBus().<ReadRequest>localConsumer(Addresses.STORAGE_READ, this::read);
  }

  private void read(Message<ReadRequest> message) {
    try {
      message.reply(store.read(message.body().ops()));
    } catch (CairnException e) {
      message.fail(e.code().grpcCode, e.getMessage());
    } catch (Exception e) {
      LOG.error("read failed", e);
      message.fail(ErrorCode.INTERNAL.grpcCode, "read failed: " + e.getMessage());
    }
  }
}
