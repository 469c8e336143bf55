package io.cairn.front.query;

import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.cairn.front.GrpcStatusMessage;
import io.cairn.front.OpenStreams;
import io.cairn.front.RpcGuard;
import io.cairn.proto.v1.QueryError;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * One ExecuteInteractive call. Queries are answered in the order they came, and each sees the effects of the
 * queries before it: a read waits for the session's earlier writes, a write for its earlier reads, while
 * consecutive reads run together and consecutive writes are pipelined to the writer in order. A query counts as
 * in flight from the moment it is read until its answer is handed to the transport; at the bound the session stops
 * reading the client, and it resumes once answers have gone out (which needs the client to take them). Its bytes
 * count under {@code front.max-inflight-bytes} until then too (from the moment its length arrived, see {@code
 * StreamBudget}), which may hold the session's later queries back, and so does its answer until written. When the
 * front stops, the session reads no more queries, answers those it has read, and ends with UNAVAILABLE.
 */
final class InteractiveSession implements OpenStreams.Stream {

  private static final Logger LOG = LoggerFactory.getLogger(InteractiveSession.class);
  private static final String STOPPED = "the server is stopping: this session's queries after its last answer were not "
      + "run; send them again once it is back, or to another member";

  private final Function<QueryRequest, Future<QueryResponse>> executor;
  private final int maxInflight;
  private final StreamMetrics metrics;
  private final QueryRpcService.Headers headers;
  private final GrpcServerRequest<QueryRequest, QueryResponse> request;
  private final GrpcServerResponse<QueryRequest, QueryResponse> response;
  private final RpcGuard.Ticket ticket;
  private final RpcGuard.StreamBytes bytes;
  private final RpcGuard guard;
  private final ArrayDeque<Pending> answers = new ArrayDeque<>();
  /** Completes when the session's latest write has been handed to storage. */
  private Future<?> writeDispatched = Future.succeededFuture();
  /**
   * Writes are numbered as they come, and a read waits until every write before it is answered. Counting instead of
   * joining each write's answer onto the last join keeps nothing of an answered write: that chain held every write
   * of a session, value and all, until the session ended.
   */
  private long writesIssued;
  private long writesAnsweredInOrder;
  private final TreeSet<Long> writesAnsweredEarly = new TreeSet<>();
  private final ArrayDeque<ReadGate> readGates = new ArrayDeque<>();
  private List<Future<?>> readsSinceWrite = new ArrayList<>();
  private OpenStreams openStreams;
  private boolean paused;
  private boolean stopping;
  private boolean clientDone;
  private boolean finished;

  InteractiveSession(Function<QueryRequest, Future<QueryResponse>> executor, int maxInflight, StreamMetrics metrics,
                     QueryRpcService.Headers headers, GrpcServerRequest<QueryRequest, QueryResponse> request,
                     RpcGuard.Ticket ticket, RpcGuard.StreamBytes bytes, RpcGuard guard) {
    this.executor = executor;
    this.maxInflight = maxInflight;
    this.metrics = metrics;
    this.headers = headers;
    this.request = request;
    this.response = request.response();
    this.ticket = ticket;
    this.bytes = bytes;
    this.guard = guard;
  }

  /** A query's answer to come, and the bytes its message holds until then. */
  private record Pending(Future<QueryResponse> answer, long bytes) {}

  /** A read waiting for the writes up to {@code afterWrite} to be answered. */
  private record ReadGate(long afterWrite, Promise<Void> open) {}

  void start(OpenStreams openStreams) {
    this.openStreams = openStreams;
    request.handler(this::onQuery);
    request.endHandler(v -> {
      clientDone = true;
      flush();
    });
    request.exceptionHandler(e -> abandon("the client went away: " + e));
    request.errorHandler(error -> abandon("the client reset the stream: " + error));
    response.exceptionHandler(e -> abandon("the stream failed: " + e));
    openStreams.opened(request.connection(), this);
  }

  @Override
  public void frontStopping() {
    if (finished) {
      return;
    }
    stopping = true;
    request.pause();
    flush();
  }

  private void onQuery(QueryRequest query) {
    if (finished) {
      return;
    }
    Future<QueryResponse> answer;
    if (writes(query)) {
      List<Future<?>> gate = new ArrayList<>(readsSinceWrite);
      gate.add(writeDispatched);
      Promise<Void> dispatched = Promise.promise();
      answer = Future.join(gate).transform(ignored -> {
        dispatched.complete();
        return run(query);
      }).map(written -> held(query, written, false));
      writeDispatched = dispatched.future();
      // A write refused at once must not let later reads overtake the earlier writes still running.
      long number = ++writesIssued;
      answer.onComplete(done -> writeAnswered(number));
      readsSinceWrite = new ArrayList<>();
    } else {
      answer = writesAnswered(writesIssued).transform(ignored -> run(query)).map(read -> held(query, read, true));
      if (readsSinceWrite.size() >= 64) {
        readsSinceWrite.removeIf(Future::isComplete);
      }
      readsSinceWrite.add(answer);
    }
    answers.add(new Pending(answer, bytes.take()));
    metrics.interactiveInflight.incrementAndGet();
    if (answers.size() >= maxInflight && !paused) {
      paused = true;
      metrics.pausedSessions.incrementAndGet();
      request.pause();
    }
    answer.onComplete(done -> flush());
  }

  /**
   * The answer, counted under {@code front.max-inflight-bytes} until written; a read's answer past the bound is
   * dropped for an error answer, as a unary read's would be (see {@link RpcGuard#holdAnswer}).
   */
  private QueryResponse held(QueryRequest query, QueryResponse answer, boolean refusable) {
    if (finished) {
      return answer;
    }
    long size = answer.getSerializedSize();
    if (guard.holdAnswer(size, refusable)) {
      return answer;
    }
    QueryResponse refused = error(query, guard.answerRefused(size));
    guard.holdAnswer(refused.getSerializedSize(), false);
    return refused;
  }

  private Future<Void> writesAnswered(long upTo) {
    if (upTo <= writesAnsweredInOrder) {
      return Future.succeededFuture();
    }
    Promise<Void> open = Promise.promise();
    readGates.add(new ReadGate(upTo, open));
    return open.future();
  }

  private void writeAnswered(long number) {
    writesAnsweredEarly.add(number);
    while (writesAnsweredEarly.remove(writesAnsweredInOrder + 1)) {
      writesAnsweredInOrder++;
    }
    while (!readGates.isEmpty() && readGates.peek().afterWrite() <= writesAnsweredInOrder) {
      readGates.poll().open().complete();
    }
  }

  private static boolean writes(QueryRequest query) {
    return switch (query.getQuery().getKindCase()) {
      case SET, DELETE, UPDATE -> true;
      default -> false;
    };
  }

  /** The query's answer, or its error as an answer. */
  private Future<QueryResponse> run(QueryRequest query) {
    try {
      return executor.apply(query).recover(e -> Future.succeededFuture(error(query, CairnException.from(e))));
    } catch (CairnException e) {
      return Future.succeededFuture(error(query, e));
    } catch (RuntimeException e) {
      LOG.error("interactive query failed", e);
      return Future.succeededFuture(error(query, CairnException.from(e)));
    }
  }

  private QueryResponse error(QueryRequest query, CairnException e) {
    QueryResponse.Builder b = QueryResponse.newBuilder()
        .setHeader(headers.at(0))
        .setError(QueryError.newBuilder().setCode(e.code().grpcCode).setStatus(e.code().name())
            .setMessage(e.getMessage() == null ? "" : e.getMessage()));
    if (query.hasRequestId()) {
      b.setRequestId(query.getRequestId());
    }
    return b.build();
  }

  /** Writes the answers that are ready, in order, while the transport has room. */
  private void flush() {
    if (finished) {
      return;
    }
    try {
      while (!answers.isEmpty() && answers.peek().answer().isComplete()) {
        if (response.writeQueueFull()) {
          response.drainHandler(v -> flush());
          return;
        }
        Pending answered = answers.poll();
        QueryResponse answer = answered.answer().result();
        long size = answer.getSerializedSize();
        try {
          response.write(answer).onComplete(sent -> guard.answerSent(size));
        } catch (RuntimeException e) {
          guard.answerSent(size);
          throw e;
        }
        bytes.release(answered.bytes());
        metrics.interactiveInflight.decrementAndGet();
      }
      if (paused && answers.size() < maxInflight && !stopping) {
        paused = false;
        metrics.pausedSessions.decrementAndGet();
        request.resume();
      }
      if (clientDone && answers.isEmpty()) {
        response.end();
        finish(null);
      } else if (stopping && answers.isEmpty()) {
        GrpcStatusMessage.fail(response, GrpcStatus.UNAVAILABLE, STOPPED);
        finish(ErrorCode.UNAVAILABLE);
      }
    } catch (RuntimeException e) {
      if (!RpcGuard.clientLeft(e)) {
        throw e;
      }
      abandon("the stream closed under a write: " + e);
    }
  }

  private void abandon(String why) {
    if (!finished) {
      LOG.debug("interactive stream ended early: {}", why);
      finish(ErrorCode.CANCELLED);
    }
  }

  private void finish(ErrorCode code) {
    if (finished) {
      return;
    }
    finished = true;
    openStreams.closed(request.connection(), this);
    metrics.interactiveInflight.addAndGet(-answers.size());
    for (Pending unwritten : answers) {
      if (unwritten.answer().isComplete()) {
        guard.answerSent(unwritten.answer().result().getSerializedSize());
      }
    }
    answers.clear();
    if (paused) {
      paused = false;
      metrics.pausedSessions.decrementAndGet();
    }
    ticket.finish(code);
  }
}
