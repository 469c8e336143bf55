package io.cairn.front;

import com.google.protobuf.MessageLite;
import io.cairn.bus.CairnException;
import io.cairn.bus.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Wraps every unary RPC of one front instance: bounds the requests in flight per connection and per instance, and
 * the bytes of their messages and answers per instance (RESOURCE_EXHAUSTED past any bound), applies the request's
 * deadline, maps failures to gRPC statuses, and records per-method request counts by status and latency histograms.
 * Lives on one event loop: no locking.
 */
public final class RpcGuard {

  private static final Logger LOG = LoggerFactory.getLogger(RpcGuard.class);
  /** Longest a request may wait on storage when neither the client nor the request sets a deadline. */
  public static final long DEFAULT_TIMEOUT_MS = 30_000;
  private final MeterRegistry registry;
  private final Deadlines deadlines;
  private final int maxPerConnection;
  private final int maxPerInstance;
  private final long maxBytes;
  private final Map<HttpConnection, int[]> inflightByConnection = new WeakHashMap<>();
  private final Map<String, MethodMeters> meters = new HashMap<>();
  private int inflight;
  private long inflightBytes;
  /** The part of inflightBytes that is answers not yet sent. */
  private long answerBytes;
  private StreamBudget arrivingStream;
  private final ArrayDeque<StreamBudget> waitingStreams = new ArrayDeque<>();
  /** Reads whose answer did not fit, to run again; and the room promised to those running again. */
  private final ArrayDeque<UnaryCall<?, ?>> readsWaiting = new ArrayDeque<>();
  private long readRoomPromised;
  private final Context context;
  private boolean wakeScheduled;

  /** Create it on the event loop that serves the calls it guards. */
  public RpcGuard(Vertx vertx, MeterRegistry registry, int maxPerConnection, int maxPerInstance,
                  long maxBytes) {
    this.deadlines = new Deadlines(vertx);
    this.context = vertx.getOrCreateContext();
    this.registry = registry;
    this.maxPerConnection = maxPerConnection;
    this.maxPerInstance = maxPerInstance;
    this.maxBytes = maxBytes;
  }

  /** Requests admitted and not yet answered. */
  public int inflight() {
    return inflight;
  }

  /** Bytes of the messages of requests admitted and not yet answered, and of answers not yet sent. */
  public long inflightBytes() {
    return inflightBytes;
  }

  /**
   * The default bound on {@link #inflightBytes} of each of {@code fronts} front instances: an eighth of the maximum
   * heap between them. The bounds on requests in flight count requests whatever their size: 1,024 puts of 1 MB at
   * once, within every limit, ran a server with the default 512 MiB heap out of memory, since each stays on the
   * heap (more than once) until its group commit.
   */
  public static long defaultMaxBytes(int fronts) {
    return Math.max(1, Runtime.getRuntime().maxMemory() / 8 / fronts);
  }

  /** What a handler learns about the call besides its message, and tells about it. */
  public static final class Call {
    private final long timeoutMs;
    private boolean changesNothing;

    public Call(long timeoutMs) {
      this.timeoutMs = timeoutMs;
    }

    /** The effective timeout: the request's own, combined with the gRPC deadline. */
    public long timeoutMs() {
      return timeoutMs;
    }

    /**
     * Marks the call as a read, which changes nothing: an answer of it that does not fit under {@code
     * front.max-inflight-bytes} is dropped, and the read runs again once there is room. An answer to a call that may
     * have changed something always goes out.
     */
    public void changesNothing() {
      changesNothing = true;
    }
  }

  /**
   * Serves a unary call: {@code handler} gets the request message and the effective timeout ({@code
   * requestTimeoutMs} of the message, 0 when absent, combined with the gRPC deadline) and answers with a future.
   */
  public <Req, Resp> void unary(GrpcServerRequest<Req, Resp> request, Function<Req, Long> requestTimeoutMs,
                                java.util.function.BiFunction<Req, Call, Future<Resp>> handler) {
    Ticket ticket = admit(request);
    if (ticket == null) {
      return;
    }
    String method = ticket.method;
    request.exceptionHandler(e -> LOG.debug("{} stream error: {}", method, e.toString()));
    request.last().onComplete(ar -> {
      if (ar.failed()) {
        // refused as its message arrived (BudgetedRequest), or the client left
        ticket.finish(ar.cause() instanceof CairnException e ? e.code() : ErrorCode.CANCELLED);
        return;
      }
      Req message = ar.result();
      long fromMessage = requestTimeoutMs.apply(message);
      long fromDeadline = request.timeout();
      long timeout = DEFAULT_TIMEOUT_MS;
      if (fromMessage > 0) {
        timeout = fromMessage;
      }
      if (fromDeadline > 0) {
        timeout = Math.min(timeout, fromDeadline);
      }
      new UnaryCall<>(request, ticket, message, handler, timeout).run();
    });
  }

  /**
   * One unary call being served. A read whose answer did not fit under {@code front.max-inflight-bytes} is run
   * again, not refused, once answers have gone out and its last answer's size fits (first come first served), within
   * the call's deadline.
   */
  private final class UnaryCall<Req, Resp> {
    private final GrpcServerRequest<Req, Resp> request;
    private final Ticket ticket;
    private final Req message;
    private final java.util.function.BiFunction<Req, Call, Future<Resp>> handler;
    private final long limitMs;
    /** The size of the last answer that did not fit; counted in readRoomPromised while the read runs again. */
    private long promised;
    private boolean runAgain;
    private Deadlines.Deadline waitingUntil;

    UnaryCall(GrpcServerRequest<Req, Resp> request, Ticket ticket, Req message,
              java.util.function.BiFunction<Req, Call, Future<Resp>> handler, long limitMs) {
      this.request = request;
      this.ticket = ticket;
      this.message = message;
      this.handler = handler;
      this.limitMs = limitMs;
    }

    /** What is left of the call's time limit, counted from its admission (the first run reads no clock). */
    private long remainingMs() {
      return runAgain ? limitMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ticket.start) : limitMs;
    }

    void run() {
      long remainingMs = remainingMs();
      if (remainingMs <= 0) {
        answered(new Call(0), Future.failedFuture(deadlineExceeded(limitMs)));
        return;
      }
      Call call = new Call(remainingMs);
      Future<Resp> answer;
      try {
        answer = handler.apply(message, call);
      } catch (CairnException e) {
        answer = Future.failedFuture(e);
      } catch (RuntimeException e) {
        LOG.error("{} failed", ticket.method, e);
        answer = Future.failedFuture(CairnException.from(e));
      }
      if (answer.isComplete()) {
        // answered on the spot (an inline read, a refusal): no deadline left to enforce
        answered(call, answer);
        return;
      }
      Promise<Resp> outcome = Promise.promise();
      Context context = Vertx.currentContext();
      Deadlines.Deadline deadline = deadlines.arm(remainingMs,
          () -> context.runOnContext(v -> outcome.tryFail(deadlineExceeded(limitMs))));
      // The storage request, sent first with the same limit, may time out a moment before the timer fires.
      answer.onComplete(outcome::tryComplete, e -> outcome.tryFail(
          CairnException.from(e).code() == ErrorCode.DEADLINE_EXCEEDED ? deadlineExceeded(limitMs) : e));
      outcome.future().onComplete(done -> {
        deadline.cancel();
        answered(call, done);
      });
    }

    private void answered(Call call, AsyncResult<Resp> done) {
      readRoomPromised -= promised;
      promised = 0;
      if (done.succeeded() && call.changesNothing) {
        long size = sizeOf(done.result());
        if (!answerFits(size)) {
          waitForRoom(size);
          return;
        }
      }
      end(request, ticket, done);
    }

    /** The answer is dropped; the read runs again once an answer of its size fits. */
    private void waitForRoom(long size) {
      promised = size;
      runAgain = true;
      long remainingMs = remainingMs();
      Context context = Vertx.currentContext();
      waitingUntil = deadlines.arm(Math.max(remainingMs, 0), () -> context.runOnContext(v -> {
        if (readsWaiting.remove(this)) {
          promised = 0;
          end(request, ticket, Future.failedFuture(new CairnException(ErrorCode.DEADLINE_EXCEEDED, "the read "
              + "exceeded its deadline of " + limitMs + " ms while its answer of " + size + " bytes waited for room "
              + "under front.max-inflight-bytes = " + maxBytes + " (" + answerBytes + " bytes of answers wait "
              + "for their clients to take them); read answers as they come, or read less at once")));
        }
      }));
      readsWaiting.add(this);
    }

    /** Whether the read may run again now; if so it does, its answer's last size promised until it returns. */
    boolean tryAgain() {
      boolean nothingWaits = answerBytes == 0 && readRoomPromised == 0;
      if (!nothingWaits && inflightBytes + readRoomPromised + promised > maxBytes) {
        return false;
      }
      waitingUntil.cancel();
      readRoomPromised += promised;
      run();
      return true;
    }
  }

  private static long sizeOf(Object answer) {
    return answer instanceof MessageLite message ? message.getSerializedSize() : 0;
  }

  /** Whether a read's answer of {@code size} bytes fits: one always does when no other answer waits. */
  private boolean answerFits(long size) {
    return answerBytes == 0 || inflightBytes + readRoomPromised + size <= maxBytes;
  }

  private static CairnException deadlineExceeded(long limitMs) {
    return new CairnException(ErrorCode.DEADLINE_EXCEEDED,
        "the request exceeded its deadline of " + limitMs + " ms; a write may still have been applied");
  }

  /** Answers the call, and releases its place in flight whatever writing the answer does. */
  private <Req, Resp> void end(GrpcServerRequest<Req, Resp> request, Ticket ticket, AsyncResult<Resp> done) {
    ErrorCode code = null;
    try {
      if (done.succeeded()) {
        respond(request, done.result());
      } else {
        CairnException e = CairnException.from(done.cause());
        code = e.code();
        fail(request, e);
      }
    } finally {
      ticket.finish(code);
    }
  }

  /**
   * Whether writing to a call failed only because its client already left: Vert.x refuses a write to a closed
   * stream with an IllegalStateException, or (5.0.7, when the stream was reset with the answer's headers queued)
   * with a NullPointerException from inside its stream. HotSpot may throw an often-thrown NullPointerException
   * without its stack, so one without a stack counts too.
   */
  public static boolean clientLeft(RuntimeException e) {
    if (e instanceof IllegalStateException) {
      return true;
    }
    if (e instanceof NullPointerException) {
      StackTraceElement[] at = e.getStackTrace();
      return at.length == 0 || at[0].getClassName().startsWith("io.vertx.");
    }
    return false;
  }

  /**
   * Admits a call under the per-connection and per-instance bounds: it counts as one request in flight until its
   * ticket is finished. Null when refused, in which case the call has already been answered.
   */
  public <Req, Resp> Ticket admit(GrpcServerRequest<Req, Resp> request) {
    long start = System.nanoTime();
    String method = request.fullMethodName();
    int[] perConnection = inflightByConnection.computeIfAbsent(request.connection(), c -> new int[1]);
    if (perConnection[0] >= maxPerConnection) {
      reject(request, method, start, "server overloaded: this connection already has " + perConnection[0]
          + " requests in flight (front.max-inflight-per-connection); wait for answers or retry with backoff");
      return null;
    }
    if (inflight >= maxPerInstance) {
      reject(request, method, start, "server overloaded: " + inflight
          + " requests in flight on this front (front.max-inflight); retry with backoff");
      return null;
    }
    perConnection[0]++;
    inflight++;
    return new Ticket(method, perConnection, start);
  }

  /**
   * Serves a server-streaming call whose work is one future over the request message: admitted under the same
   * bounds as unary calls, and when the future fails, answered with its status (when it succeeds, it has ended
   * the response itself).
   */
  public <Req, Resp> void serverStream(GrpcServerRequest<Req, Resp> request, Function<Req, Future<Void>> body) {
    Ticket ticket = admit(request);
    if (ticket == null) {
      return;
    }
    request.last()
        .compose(message -> {
          try {
            return body.apply(message);
          } catch (CairnException e) {
            return Future.failedFuture(e);
          }
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            ticket.finish(null);
          } else {
            CairnException e = CairnException.from(ar.cause());
            try {
              fail(request, e);
            } finally {
              ticket.finish(e.code());
            }
          }
        });
  }

  /**
   * A request of {@code method}, which has one message, counted under {@code front.max-inflight-bytes} from the moment
   * its length arrives until its response ends (see {@link BudgetedRequest}); {@code maxMessageSize} is the
   * transport's bound.
   */
  public HttpServerRequest budgeted(HttpServerRequest request, long maxMessageSize, GrpcServerMetrics.Method method) {
    return new BudgetedRequest(request, this, maxMessageSize, method);
  }

  /**
   * A call of {@code method}, whose client sends a stream of messages, each counted under {@code
   * front.max-inflight-bytes} from the moment its length arrives until its handler gives it back (see {@link
   * StreamBudget}). Its handler, called as the returned request is handed to vertx-grpc, claims the count with
   * {@link #claimStreamBytes}.
   */
  public HttpServerRequest streamBudget(HttpServerRequest request, long maxMessageSize,
                                        GrpcServerMetrics.Method method) {
    StreamBudget budget = new StreamBudget(request, this, maxMessageSize, method);
    arrivingStream = budget;
    return budget;
  }

  /**
   * The message bytes of the call being handed to its handler right now (vertx-grpc calls the handler at once), or
   * {@link StreamBytes#NONE} when it has no count.
   */
  public StreamBytes claimStreamBytes() {
    StreamBytes claimed = arrivingStream == null ? StreamBytes.NONE : arrivingStream;
    arrivingStream = null;
    return claimed;
  }

  /** The bytes of a client stream's messages, counted from the moment each one's length arrived. */
  public interface StreamBytes {
    StreamBytes NONE = new StreamBytes() {
      public long take() {
        return 0;
      }

      public void release(long bytes) {
      }
    };

    /** The size of the next message, in the order they arrived, which its taker now holds until it releases it. */
    long take();

    /** Gives back bytes taken. */
    void release(long bytes);
  }

  /**
   * Counts a request message of {@code size} bytes under {@code front.max-inflight-bytes}; false when it does not
   * fit. One request always fits when nothing else is in flight.
   */
  boolean reserveBytes(long size) {
    if (inflightBytes > 0 && inflightBytes + size > maxBytes) {
      return false;
    }
    inflightBytes += size;
    return true;
  }

  void releaseBytes(long size) {
    inflightBytes -= size;
    if ((!waitingStreams.isEmpty() || !readsWaiting.isEmpty()) && !wakeScheduled) {
      // not from inside the caller, which may be delivering a stream's messages right now
      wakeScheduled = true;
      context.runOnContext(v -> wakeWaiting());
    }
  }

  /** A client stream whose next message did not fit: it is not read until {@link StreamBudget#tryToGoOn} says so. */
  void waitForBytes(StreamBudget stream) {
    waitingStreams.add(stream);
  }

  void stopWaiting(StreamBudget stream) {
    waitingStreams.remove(stream);
  }

  /** Reads and client streams waiting for room go on, each kind first come first served, while they fit. */
  private void wakeWaiting() {
    wakeScheduled = false;
    while (!readsWaiting.isEmpty() && readsWaiting.peek().tryAgain()) {
      readsWaiting.poll();
    }
    while (!waitingStreams.isEmpty() && waitingStreams.peek().tryToGoOn()) {
      waitingStreams.poll();
    }
  }

  /** Reads whose answer did not fit under {@code front.max-inflight-bytes}, waiting to run again. */
  public int readsWaiting() {
    return readsWaiting.size();
  }

  /** Client streams not read until {@code front.max-inflight-bytes} has room for their next message. */
  public int streamsWaiting() {
    return waitingStreams.size();
  }

  String bytesRefusal() {
    return "server overloaded: " + inflightBytes + " bytes of requests and answers in flight on this front "
        + "(front.max-inflight-bytes = " + maxBytes + "); retry with backoff";
  }

  /** A call in flight; {@link #finish} releases its place and records how it ended, once. */
  public final class Ticket {
    private final String method;
    private final int[] perConnection;
    private final long start;
    private boolean finished;

    private Ticket(String method, int[] perConnection, long start) {
      this.method = method;
      this.perConnection = perConnection;
      this.start = start;
    }

    public void finish(ErrorCode code) {
      if (!finished) {
        finished = true;
        RpcGuard.this.finish(perConnection);
        record(method, code, start);
      }
    }
  }

  private void finish(int[] perConnection) {
    perConnection[0]--;
    inflight--;
  }

  private <Req, Resp> void reject(GrpcServerRequest<Req, Resp> request, String method, long start, String message) {
    fail(request, new CairnException(ErrorCode.RESOURCE_EXHAUSTED, message));
    record(method, ErrorCode.RESOURCE_EXHAUSTED, start);
  }

  /**
   * Ends a call with its answer (a call the client already left is ignored), counted under {@code
   * front.max-inflight-bytes} until it has gone out: a client that does not take its answers keeps them on the heap,
   * and 200 concurrent range reads of 10 MB from one such client ran a 512 MiB heap out, each read within {@code
   * storage.max-read-bytes}. A read's answer that does not fit never gets here: the read runs again later
   * ({@link UnaryCall}).
   */
  private <Req, Resp> void respond(GrpcServerRequest<Req, Resp> request, Resp response) {
    long size = sizeOf(response);
    holdAnswer(size, false);
    try {
      request.response().end(response).onComplete(sent -> answerSent(size));
    } catch (RuntimeException e) {
      answerSent(size);
      if (!clientLeft(e)) {
        throw e;
      }
      LOG.debug("{}: the client went away before the answer ({})", request.fullMethodName(), e.toString());
    }
  }

  /**
   * Counts an answer of {@code size} bytes under {@code front.max-inflight-bytes} until {@link #answerSent}; false,
   * counting nothing, when it does not fit and {@code refusable} (the call changed nothing). One answer always fits
   * when no other waits.
   */
  public boolean holdAnswer(long size, boolean refusable) {
    if (refusable && answerBytes > 0 && inflightBytes + size > maxBytes) {
      return false;
    }
    answerBytes += size;
    inflightBytes += size;
    return true;
  }

  /** An answer counted by {@link #holdAnswer} has gone out (or its stream has closed). */
  public void answerSent(long size) {
    answerBytes -= size;
    releaseBytes(size);
  }

  /** The error for an answer {@link #holdAnswer} did not take. */
  public CairnException answerRefused(long size) {
    return new CairnException(ErrorCode.RESOURCE_EXHAUSTED, "server overloaded: answers of " + answerBytes
        + " bytes on this front wait for their clients to take them, " + inflightBytes + " bytes in flight in all "
        + "(front.max-inflight-bytes = " + maxBytes + "); this answer of " + size + " bytes was dropped: read "
        + "answers as they come, read less at once, or retry with backoff");
  }

  /**
   * Resets a call's stream (RST_STREAM; gRPC clients report CANCELLED), dropping whatever it still has queued for
   * its client, as no status could; a call the client already left is ignored.
   */
  public static void reset(GrpcServerResponse<?, ?> response) {
    try {
      response.cancel();
    } catch (RuntimeException e) {
      if (!clientLeft(e)) {
        throw e;
      }
    }
  }

  /** Ends a call with the error's status; a call the client already left is ignored. */
  public static <Req, Resp> void fail(GrpcServerRequest<Req, Resp> request, CairnException e) {
    try {
      GrpcStatusMessage.fail(request.response(), GrpcStatus.valueOf(e.code().grpcCode), e.getMessage());
    } catch (RuntimeException writeFailure) {
      if (!clientLeft(writeFailure)) {
        throw writeFailure;
      }
      LOG.debug("{}: the client went away before the error ({})", request.fullMethodName(),
          writeFailure.toString());
    }
  }

  /** One method's meters: its latency timer and a request counter per status, made on first use. */
  private final class MethodMeters {
    private final String method;
    private final Timer duration;
    /** Index 0 counts OK; index 1 + ordinal counts each {@link ErrorCode}. */
    private final Counter[] requests = new Counter[ErrorCode.values().length + 1];

    MethodMeters(String method) {
      this.method = method;
      this.duration = Timer.builder("cairn.rpc.duration").description("RPC latency from request to answer")
          .tag("method", method).publishPercentileHistogram().register(registry);
    }

    Counter requests(ErrorCode code) {
      int index = code == null ? 0 : code.ordinal() + 1;
      Counter counter = requests[index];
      if (counter == null) {
        counter = Counter.builder("cairn.rpc.requests").description("RPCs answered, by method and gRPC status")
            .tag("method", method).tag("code", code == null ? "OK" : code.name()).register(registry);
        requests[index] = counter;
      }
      return counter;
    }
  }

  /** Counts the answer by method and status and records its latency; a few array and map reads per request. */
  private void record(String method, ErrorCode code, long startNanos) {
    MethodMeters m = meters.computeIfAbsent(method, MethodMeters::new);
    m.requests(code).increment();
    m.duration.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }
}
