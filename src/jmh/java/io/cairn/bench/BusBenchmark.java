package io.cairn.bench;

import io.cairn.bus.Addresses;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.bus.LocalCodec;
import io.cairn.bus.ReadReply;
import io.cairn.bus.ReadRequest;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.List;

/**
 * One event-bus request and reply with Cairn's pass-by-reference codec, to an event-loop consumer and to a worker
 * consumer as the storage readers are; the caller waits for the reply (so this includes two thread hand-offs).
 */
@State(Scope.Benchmark)
public class BusBenchmark {

  private Vertx vertx;
  private ReadRequest request;
  private ReadReply reply;

  @Setup(Level.Trial)
  public void start() throws Exception {
    vertx = Vertx.vertx();
    LocalCodec.registerAll(vertx.eventBus());
    request = new ReadRequest(List.of(new KvOp.Get(new byte[] {1})));
    reply = new ReadReply(1, List.of(new KvResult.Got(null)));
    vertx.deployVerticle(new io.vertx.core.AbstractVerticle() {
      @Override
      public void start() {
        vertx.eventBus().<ReadRequest>localConsumer(Addresses.STORAGE_READ, m -> m.reply(reply));
      }
    }, new io.vertx.core.DeploymentOptions().setThreadingModel(io.vertx.core.ThreadingModel.WORKER))
        .toCompletionStage().toCompletableFuture().get();
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Benchmark
  public Object requestReplyToAWorker() throws Exception {
    return vertx.eventBus().<ReadReply>request(Addresses.STORAGE_READ, request).map(Message::body)
        .toCompletionStage().toCompletableFuture().get();
  }
}
