package io.cairn.front.query;

import io.cairn.bus.CairnException;
import io.cairn.bus.CursorPage;
import io.cairn.bus.CursorRequest;
import io.cairn.bus.ErrorCode;
import io.cairn.bus.KeyValue;
import io.cairn.bus.KvOp;
import io.cairn.config.CairnConfig;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.cairn.proto.v1.FilterQuery;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.RangeQuery;
import io.cairn.proto.v1.StreamChunk;
import io.cairn.proto.v1.StreamEnd;
import io.cairn.proto.v1.StreamResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * One ExecuteStream call. It holds at most one page in hand, and about {@value #CHUNKS_AHEAD} chunks written that its
 * client has not taken: the next page is asked of storage only while fewer are left unsent, and when its front's
 * streams together have room for it under {@code stream.max-front-bytes} ({@link StreamRoom}). So a slow client
 * slows the scan instead of filling the server's memory, and many of them wait for one another. Cancelling closes
 * the cursor.
 */
final class QueryStream {

  private static final Logger LOG = LoggerFactory.getLogger(QueryStream.class);
  private static final long PAGE_TIMEOUT_MS = RpcGuard.DEFAULT_TIMEOUT_MS;
  /** How many chunks a stream keeps written ahead of its client: enough to cover the transport's round trips. */
  static final int CHUNKS_AHEAD = 16;

  private final Vertx vertx;
  private final StorageClient storage;
  private final QueryTranslator translator;
  private final CairnConfig.Stream settings;
  private final StreamMetrics metrics;
  private final QueryRpcService.Headers headers;
  private final GrpcServerRequest<QueryRequest, StreamResponse> request;
  private final GrpcServerResponse<QueryRequest, StreamResponse> response;
  private final RpcGuard.Ticket ticket;
  private final StreamRoom room;
  private CursorRequest.Open openRequest;
  /** Bytes of the chunks written that the client has not taken yet. */
  private long heldBytes;
  /** Armed while the stream waits holding chunks its client has not taken; -1: not armed. */
  private long idleTimer = -1;
  private boolean waitingForRoom;
  private String collection;
  private int strip;
  private String requestId;
  private long cursorId;
  private long sequence;
  private long total;
  private boolean fetching;
  private boolean waiting;
  private boolean finished;

  QueryStream(Vertx vertx, StorageClient storage, QueryTranslator translator, CairnConfig.Stream settings, StreamMetrics metrics,
              QueryRpcService.Headers headers, GrpcServerRequest<QueryRequest, StreamResponse> request,
              RpcGuard.Ticket ticket, StreamRoom room) {
    this.vertx = vertx;
    this.storage = storage;
    this.translator = translator;
    this.settings = settings;
    this.metrics = metrics;
    this.headers = headers;
    this.request = request;
    this.response = request.response();
    this.ticket = ticket;
    this.room = room;
  }

  void start() {
    metrics.activeStreams.incrementAndGet();
    request.exceptionHandler(e -> cancelled("the client went away: " + e));
    request.errorHandler(error -> cancelled("the client reset the stream: " + error));
    response.exceptionHandler(e -> cancelled("the stream failed: " + e));
    request.last().onComplete(ar -> {
      if (ar.failed()) {
        cancelled("the request did not arrive: " + ar.cause());
        return;
      }
      try {
        openRequest = open(ar.result());
      } catch (CairnException e) {
        fail(e);
        return;
      }
      readWhenRoom();
    });
  }

  private CursorRequest.Open open(QueryRequest message) {
    ProtocolVersions.check(message.hasProtocolVersion(), message.getProtocolVersion());
    requestId = message.hasRequestId() ? message.getRequestId() : null;
    Query query = message.getQuery();
    collection = QueryTranslator.collectionOf(query);
    strip = collection.getBytes(StandardCharsets.UTF_8).length + 1;
    int keys = settings.chunkKeys();
    int bytes = settings.chunkBytes();
    switch (query.getKindCase()) {
      case RANGE -> {
        RangeQuery range = query.getRange();
        byte[] prefix = QueryTranslator.prefix("query.range", range.getCollection());
        return new CursorRequest.Open(translator.bound("query.range.start", prefix, range.getStart()),
            translator.end("query.range.end", prefix, range.getEnd()), null, 0, range.getLimit(),
            range.getKeysOnly(), keys, bytes);
      }
      case FILTER -> {
        FilterQuery filter = query.getFilter();
        if (!filter.getContinuationToken().isEmpty()) {
          throw CairnException.invalid("query.filter.continuation_token: ExecuteStream reads everything in one "
              + "pass from one view; continuation tokens are for the unary filter");
        }
        KvOp.Filter f = translator.filter("query.filter", filter, 0);
        return new CursorRequest.Open(f.start(), f.end(), f.where(), f.offset(), f.limit(), f.keysOnly(), keys,
            bytes);
      }
      default -> throw CairnException.invalid("query: ExecuteStream serves range and filter queries; send "
          + (query.getKindCase() == Query.KindCase.KIND_NOT_SET ? "one of them" : "a " + query.getKindCase()
              .name().toLowerCase() + " query to ExecuteQuery"));
    }
  }

  private void onPage(CursorPage page) {
    if (finished) {
      release();
      return;
    }
    metrics.streamBytes.increment(page.bytes());
    try {
      if (!page.kvs().isEmpty()) {
        StreamChunk.Builder chunk = StreamChunk.newBuilder();
        for (KeyValue kv : page.kvs()) {
          chunk.addKvs(QueryTranslator.kv(collection, strip, kv));
        }
        total += page.kvs().size();
        metrics.streamValues.increment(page.kvs().size());
        StreamResponse message = message(page.revision()).setChunk(chunk).build();
        int size = message.getSerializedSize();
        Future<Void> written = response.write(message);
        heldBytes += size;
        room.held(size);
        written.onComplete(ar -> chunkSent(size));
      }
      if (page.done()) {
        cursorId = 0;
        response.end(message(page.revision()).setEnd(StreamEnd.newBuilder().setTotalCount(total)).build());
        finish(null);
        return;
      }
    } catch (RuntimeException e) {
      if (!RpcGuard.clientLeft(e)) {
        throw e;
      }
      cancelled("the stream closed under a write: " + e);
      return;
    }
    if (clientBehind()) {
      waiting = true;
      metrics.waitingStreams.incrementAndGet();
      clientMustTake();
    } else {
      readWhenRoom();
    }
  }

  /**
   * The stream waits (for its client, or for room its front's streams hold) with chunks its client has not taken:
   * if the client takes nothing for {@code stream.idle-timeout}, the stream is reset, so that its view of the store
   * and its share of the room go to others.
   */
  private void clientMustTake() {
    if (idleTimer >= 0 || heldBytes == 0) {
      return;
    }
    long idle = settings.idleTimeout().toMillis();
    idleTimer = vertx.setTimer(idle, id -> {
      idleTimer = -1;
      if (finished) {
        return;
      }
      LOG.debug("ExecuteStream reset: its client took nothing for {} ms (stream.idle-timeout)", idle);
      // An error status would wait behind the chunks the client does not take, holding them: the stream is reset
      // instead, which drops them and gives their room back.
      finish(ErrorCode.ABORTED);
      RpcGuard.reset(response);
    });
  }

  private void stopIdleTimer() {
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
      idleTimer = -1;
    }
  }

  /** {@value #CHUNKS_AHEAD} chunks or more written that the client has not taken: read no more until it takes them. */
  private boolean clientBehind() {
    return heldBytes >= (long) CHUNKS_AHEAD * settings.chunkBytes();
  }

  private void chunkSent(long size) {
    heldBytes -= size;
    room.sent(size);
    if (finished) {
      return;
    }
    if (idleTimer >= 0) {
      // the client took something: it has the whole timeout again
      stopIdleTimer();
      if (waiting || waitingForRoom) {
        clientMustTake();
      }
    }
    if (waiting && !clientBehind()) {
      waiting = false;
      metrics.waitingStreams.decrementAndGet();
      readWhenRoom();
    }
  }

  private void readWhenRoom() {
    if (finished) {
      return;
    }
    if (room.mayRead(this)) {
      readPage();
    } else {
      waitingForRoom = true;
      clientMustTake();
    }
  }

  /** The front's streams have room for this one's next page, counted for it until the page has been handled. */
  void roomFreed() {
    waitingForRoom = false;
    if (finished) {
      room.pageRead();
      return;
    }
    readPage();
  }

  private void readPage() {
    fetching = true;
    boolean opening = cursorId == 0;
    CursorRequest next = opening ? openRequest
        : new CursorRequest.Next(cursorId, settings.chunkKeys(), settings.chunkBytes());
    storage.cursor(next, PAGE_TIMEOUT_MS).onComplete(page -> {
      fetching = false;
      try {
        if (page.succeeded()) {
          if (opening) {
            cursorId = page.result().cursorId();
          }
          onPage(page.result());
        } else {
          fail(CairnException.from(page.cause()));
        }
      } finally {
        room.pageRead();
      }
    });
  }

  private StreamResponse.Builder message(long revision) {
    StreamResponse.Builder b = StreamResponse.newBuilder().setHeader(headers.at(revision)).setSequence(sequence++);
    if (requestId != null) {
      b.setRequestId(requestId);
    }
    return b;
  }

  private void fail(CairnException e) {
    if (!finished) {
      RpcGuard.fail(request, e);
      finish(e.code());
    }
  }

  private void cancelled(String why) {
    if (!finished) {
      LOG.debug("stream ended early: {}", why);
      finish(ErrorCode.CANCELLED);
    }
  }

  private void finish(ErrorCode code) {
    if (finished) {
      return;
    }
    finished = true;
    stopIdleTimer();
    if (waiting) {
      waiting = false;
      metrics.waitingStreams.decrementAndGet();
    }
    if (waitingForRoom) {
      waitingForRoom = false;
      room.gone(this);
    }
    metrics.activeStreams.decrementAndGet();
    ticket.finish(code);
    if (!fetching) {
      release();
    }
  }

  /** Closes the cursor; a page still being read is released when it arrives. */
  private void release() {
    if (cursorId != 0) {
      long id = cursorId;
      cursorId = 0;
      storage.cursor(new CursorRequest.Close(id), PAGE_TIMEOUT_MS)
          .onFailure(e -> LOG.debug("closing cursor {} failed: {}", id, e.toString()));
    }
  }
}
