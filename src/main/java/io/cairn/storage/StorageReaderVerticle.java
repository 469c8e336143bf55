package io.cairn.storage;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.CursorRequest;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.ReadBatch;
import io.cairn.bus.ReadBatchReply;
import io.cairn.bus.ReadRequest;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Callable;

/**
 * A worker verticle serving reads from consistent RocksDB snapshots, and the pages of streaming reads; several run
 * in parallel.
 */
final class StorageReaderVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(StorageReaderVerticle.class);

  private final MvccStore store;

  StorageReaderVerticle(MvccStore store) {
    this.store = store;
  }

  @Override
  public void start() {
    vertx.eventBus().<ReadRequest>localConsumer(Addresses.STORAGE_READ,
        message -> answer(message, () -> store.read(message.body().ops())));
    vertx.eventBus().<ReadBatch>localConsumer(Addresses.STORAGE_READ_BATCH,
        message -> answer(message, () -> new ReadBatchReply(store.readBatch(message.body().requests()))));
    vertx.eventBus().<CursorRequest>localConsumer(Addresses.STORAGE_CURSOR, this::cursor);
  }

  private void cursor(Message<CursorRequest> message) {
    CursorRequest request = message.body();
    if (request instanceof CursorRequest.Open open) {
      answer(message, () -> store.openCursor(open));
    } else if (request instanceof CursorRequest.Next next) {
      answer(message, () -> store.nextPage(next));
    } else {
      store.closeCursor(((CursorRequest.Close) request).cursorId());
      message.reply(null);
    }
  }

  private static void answer(Message<?> message, Callable<Object> work) {
    try {
      message.reply(work.call());
    } catch (CairnException e) {
      message.fail(e.code().grpcCode, e.getMessage());
    } catch (Exception e) {
      LOG.error("read failed", e);
      message.fail(ErrorCode.INTERNAL.grpcCode, "read failed: " + e.getMessage());
    }
  }
}
