package io.cairn.ops;

import io.cairn.bus.Addresses;
import io.cairn.bus.CairnException;
import io.cairn.bus.SnapshotInfo;
import io.cairn.bus.SnapshotList;
import io.cairn.bus.SnapshotRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The snapshot endpoints of the ops port: {@code POST /admin/snapshots} takes one (201 with its description),
 * {@code GET} lists them newest first, {@code DELETE /admin/snapshots/NAME} deletes one. Errors are JSON with the
 * HTTP status matching the gRPC one.
 */
final class SnapshotAdmin {

  private static final DeliveryOptions LONG = new DeliveryOptions().setSendTimeout(3_600_000);

  private final Vertx vertx;

  SnapshotAdmin(Vertx vertx) {
    this.vertx = vertx;
  }

  void mount(Router router) {
    router.post("/admin/snapshots").handler(ctx -> answer(ctx, 201,
        this.<SnapshotInfo>ask(new SnapshotRequest.Create(false)).map(SnapshotAdmin::json)));
    router.get("/admin/snapshots").handler(ctx -> answer(ctx, 200,
        this.<SnapshotList>ask(new SnapshotRequest.ListAll()).map(list -> new JsonObject().put("snapshots",
            new JsonArray(list.snapshots().stream().map(SnapshotAdmin::json).toList())))));
    router.delete("/admin/snapshots/:name").handler(ctx -> answer(ctx, 200,
        this.<SnapshotInfo>ask(new SnapshotRequest.Delete(ctx.pathParam("name"))).map(SnapshotAdmin::json)));
  }

  private <T> Future<T> ask(SnapshotRequest request) {
    return vertx.eventBus().<T>request(Addresses.SNAPSHOT, request, LONG).map(Message::body);
  }

  private static void answer(RoutingContext ctx, int status, Future<JsonObject> body) {
    body.onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
            .end(ar.result().encode());
        return;
      }
      CairnException e = CairnException.from(ar.cause());
      int http = switch (e.code()) {
        case NOT_FOUND -> 404;
        case INVALID_ARGUMENT -> 400;
        case UNAVAILABLE -> 503;
        default -> 500;
      };
      ctx.response().setStatusCode(http).putHeader("content-type", "application/json")
          .end(new JsonObject().put("error", e.code().name()).put("message", e.getMessage()).encode());
    });
  }

  static JsonObject json(SnapshotInfo info) {
    return new JsonObject().put("name", info.name()).put("path", info.path()).put("revision", info.revision())
        .put("appliedIndex", info.appliedIndex()).put("keys", info.keyCount()).put("entries", info.entryCount())
        .put("sizeBytes", info.sizeBytes()).put("createdMs", info.createdMillis())
        .put("durationMs", info.durationMillis()).put("compression", info.compression());
  }
}
