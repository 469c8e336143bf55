package io.cairn.front.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.cairn.front.GrpcStatusMessage;
import io.cairn.proto.etcd.AlarmRequest;
import io.cairn.proto.etcd.CompactionRequest;
import io.cairn.proto.etcd.DefragmentRequest;
import io.cairn.proto.etcd.DeleteRangeRequest;
import io.cairn.proto.etcd.HashKVRequest;
import io.cairn.proto.etcd.HashRequest;
import io.cairn.proto.etcd.KVGrpcClient;
import io.cairn.proto.etcd.LeaseGrantRequest;
import io.cairn.proto.etcd.LeaseGrpcClient;
import io.cairn.proto.etcd.LeaseKeepAliveRequest;
import io.cairn.proto.etcd.LeaseLeasesRequest;
import io.cairn.proto.etcd.LeaseRevokeRequest;
import io.cairn.proto.etcd.LeaseTimeToLiveRequest;
import io.cairn.proto.etcd.MaintenanceGrpcClient;
import io.cairn.proto.etcd.MemberListRequest;
import io.cairn.proto.etcd.ClusterGrpcClient;
import io.cairn.proto.etcd.MoveLeaderRequest;
import io.cairn.proto.etcd.PutRequest;
import io.cairn.proto.etcd.RangeRequest;
import io.cairn.proto.etcd.SnapshotRequest;
import io.cairn.proto.etcd.StatusRequest;
import io.cairn.proto.etcd.TxnRequest;
import io.cairn.proto.etcd.WatchGrpcClient;
import io.cairn.proto.etcd.WatchRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * etcd's JSON gateway, as etcd 3.4 serves it on its client port: {@code POST /v3/kv/range} with a JSON request
 * (keys and values base64, 64-bit numbers as strings or numbers, unknown fields ignored) gets the JSON of the
 * gRPC response, under the .proto field names; an error gets {@code {"error","message","code"}} with the HTTP
 * status grpc-gateway gives the gRPC code. {@code /v3beta/} is {@code /v3/}, as in etcd 3.4. Each request is made
 * as a gRPC call to this server itself, so that it is admitted, bounded and answered as any other call.
 */
public final class EtcdGateway {

  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

  private record Route<Resp extends Message, Req extends Message>(ServiceMethod<Resp, Req> method,
                                                                   Supplier<Message.Builder> request) {}

  private static final Map<String, Route<?, ?>> ROUTES = new HashMap<>();
  /** The streaming calls: the body is a sequence of JSON requests, the answer one {"result":...} line each. */
  private static final Map<String, Route<?, ?>> STREAMS = Map.of(
      "/v3/watch", new Route<>(WatchGrpcClient.Watch, WatchRequest::newBuilder),
      "/v3/lease/keepalive", new Route<>(LeaseGrpcClient.LeaseKeepAlive, LeaseKeepAliveRequest::newBuilder),
      "/v3/maintenance/snapshot", new Route<>(MaintenanceGrpcClient.Snapshot, SnapshotRequest::newBuilder));

  static {
    route("/v3/kv/range", KVGrpcClient.Range, RangeRequest::newBuilder);
    route("/v3/kv/put", KVGrpcClient.Put, PutRequest::newBuilder);
    route("/v3/kv/deleterange", KVGrpcClient.DeleteRange, DeleteRangeRequest::newBuilder);
    route("/v3/kv/txn", KVGrpcClient.Txn, TxnRequest::newBuilder);
    route("/v3/kv/compaction", KVGrpcClient.Compact, CompactionRequest::newBuilder);
    route("/v3/lease/grant", LeaseGrpcClient.LeaseGrant, LeaseGrantRequest::newBuilder);
    route("/v3/lease/revoke", LeaseGrpcClient.LeaseRevoke, LeaseRevokeRequest::newBuilder);
    route("/v3/kv/lease/revoke", LeaseGrpcClient.LeaseRevoke, LeaseRevokeRequest::newBuilder);
    route("/v3/lease/timetolive", LeaseGrpcClient.LeaseTimeToLive, LeaseTimeToLiveRequest::newBuilder);
    route("/v3/kv/lease/timetolive", LeaseGrpcClient.LeaseTimeToLive, LeaseTimeToLiveRequest::newBuilder);
    route("/v3/lease/leases", LeaseGrpcClient.LeaseLeases, LeaseLeasesRequest::newBuilder);
    route("/v3/kv/lease/leases", LeaseGrpcClient.LeaseLeases, LeaseLeasesRequest::newBuilder);
    route("/v3/cluster/member/list", ClusterGrpcClient.MemberList, MemberListRequest::newBuilder);
    route("/v3/maintenance/alarm", MaintenanceGrpcClient.Alarm, AlarmRequest::newBuilder);
    route("/v3/maintenance/status", MaintenanceGrpcClient.Status, StatusRequest::newBuilder);
    route("/v3/maintenance/defragment", MaintenanceGrpcClient.Defragment, DefragmentRequest::newBuilder);
    route("/v3/maintenance/hash", MaintenanceGrpcClient.Hash, HashRequest::newBuilder);
    route("/v3/maintenance/hashkv", MaintenanceGrpcClient.HashKV, HashKVRequest::newBuilder);
    route("/v3/maintenance/transfer-leadership", MaintenanceGrpcClient.MoveLeader, MoveLeaderRequest::newBuilder);
  }

  private static <Resp extends Message, Req extends Message> void route(String path, ServiceMethod<Resp, Req> method,
                                                                          Supplier<Message.Builder> request) {
    ROUTES.put(path, new Route<>(method, request));
  }

  private final GrpcClient client;
  private final SocketAddress self;
  private final long maxRequestBytes;

  /**
   * @param self            this server's gRPC address
   * @param maxRequestBytes the largest gRPC request ({@code limits.max-request-size}); a JSON body may be up to
   *                        twice that (base64 and field names)
   * @param maxAnswerBytes  the largest gRPC answer the gateway takes from the server
   */
  public EtcdGateway(Vertx vertx, SocketAddress self, long maxRequestBytes, long maxAnswerBytes) {
    this.client = GrpcClient.client(vertx, new GrpcClientOptions()
        .setMaxMessageSize(Math.min(Integer.MAX_VALUE, maxAnswerBytes)));
    this.self = self;
    this.maxRequestBytes = maxRequestBytes;
  }

  /** Whether the path is the gateway's: {@code /v3/...} or {@code /v3beta/...}. */
  public static boolean isGatewayPath(String path) {
    return path != null && (path.startsWith("/v3/") || path.startsWith("/v3beta/"));
  }

  public void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    response.putHeader("Access-Control-Allow-Origin", "*")
        .putHeader("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE")
        .putHeader("Access-Control-Allow-Headers", "accept, content-type, authorization");
    String path = request.path().startsWith("/v3beta/") ? "/v3/" + request.path().substring("/v3beta/".length())
        : request.path();
    Route<?, ?> route = ROUTES.get(path);
    Route<?, ?> stream = STREAMS.get(path);
    if (route == null && stream == null) {
      response.setStatusCode(404).putHeader("Content-Type", "text/plain; charset=utf-8").end("Not Found\n");
      return;
    }
    if (request.method() != HttpMethod.POST) {
      response.setStatusCode(405).putHeader("Content-Type", "text/plain; charset=utf-8")
          .end("Method Not Allowed\n");
      return;
    }
    if (stream != null) {
      new GatewayStream<>(stream, request, response).start();
      return;
    }
    long limit = 2 * maxRequestBytes;
    Buffer body = Buffer.buffer();
    request.handler(chunk -> {
      if (body.length() <= limit) {
        body.appendBuffer(chunk);
      }
    });
    request.endHandler(v -> {
      if (body.length() > limit) {
        error(response, GrpcStatus.INVALID_ARGUMENT, "the request body is over " + limit + " bytes, twice "
            + "limits.max-request-size: send less at once");
      } else {
        call(route, body, response);
      }
    });
  }

  private <Resp extends Message, Req extends Message> void call(Route<Resp, Req> route, Buffer body,
                                                                HttpServerResponse response) {
    Req message;
    try {
      message = parse(route, body.toString());
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      error(response, GrpcStatus.INVALID_ARGUMENT, notJson(e));
      return;
    }
    client.request(self, route.method()).compose(call -> {
      call.end(message);
      return call.response().compose(answer -> answer.last()
          .map(last -> (Object) last)
          .recover(e -> Future.succeededFuture(
              new Failure(answer.status(), GrpcStatusMessage.received(answer)))));
    }).onComplete(done -> {
      if (response.closed()) {
        return;
      }
      if (done.failed()) {
        error(response, GrpcStatus.UNAVAILABLE, "the gateway could not reach this server's gRPC port: "
            + done.cause().getMessage());
      } else if (done.result() instanceof Failure failure) {
        error(response, failure.status() == GrpcStatus.OK ? GrpcStatus.INTERNAL : failure.status(),
            failure.message() == null ? "" : failure.message());
      } else {
        try {
          response.putHeader("Content-Type", "application/json").end(PRINTER.print((Message) done.result()));
        } catch (InvalidProtocolBufferException e) {
          error(response, GrpcStatus.INTERNAL, e.getMessage());
        }
      }
    });
  }

  private static <Req extends Message> Req parse(Route<?, Req> route, String json)
      throws InvalidProtocolBufferException {
    Message.Builder builder = route.request().get();
    if (!json.isBlank()) {
      PARSER.merge(json, builder);
    }
    @SuppressWarnings("unchecked")
    Req built = (Req) builder.build();
    return built;
  }

  private static String notJson(Exception e) {
    return "the request is not JSON of its message: " + e.getMessage();
  }

  private record Failure(GrpcStatus status, String message) {}

  /**
   * One streaming call: each JSON request of the body, as it arrives, is written to the gRPC call, and each answer
   * goes out as a {"result":...} line; the call reads no faster than the HTTP client takes the answers. The end of
   * the body closes the call's side of the client, as grpc-gateway does: a keep-alive stream ends once it has
   * answered, a snapshot starts, a watch goes on. The HTTP client leaving cancels the call.
   */
  private final class GatewayStream<Resp extends Message, Req extends Message> {
    private final Route<Resp, Req> route;
    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final JsonSplitter splitter = new JsonSplitter(2 * maxRequestBytes);
    private GrpcClientRequest<Req, Resp> call;
    /** The server has ended the call. */
    private boolean callEnded;
    private boolean done;

    GatewayStream(Route<Resp, Req> route, HttpServerRequest request, HttpServerResponse response) {
      this.route = route;
      this.request = request;
      this.response = response;
    }

    void start() {
      request.pause();
      response.setChunked(true).putHeader("Content-Type", "application/json");
      response.closeHandler(v -> finish());
      client.request(self, route.method()).onComplete(opened -> {
        if (opened.failed()) {
          end(GrpcStatus.UNAVAILABLE, "the gateway could not reach this server's gRPC port: "
              + opened.cause().getMessage());
          return;
        }
        call = opened.result();
        if (done) { // the HTTP client left meanwhile
          call.cancel();
          return;
        }
        call.response().onSuccess(this::answers).onFailure(e -> end(GrpcStatus.UNAVAILABLE, e.getMessage()));
        request.handler(this::requests);
        request.endHandler(v -> {
          if (!done) {
            call.end();
          }
        });
        request.resume();
      });
    }

    private void requests(Buffer chunk) {
      try {
        for (String json : splitter.add(chunk)) {
          call.write(parse(route, json));
        }
        if (call.writeQueueFull()) {
          request.pause();
          call.drainHandler(v -> request.resume());
        }
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        end(GrpcStatus.UNKNOWN, notJson(e)); // etcd's code for a streaming body it cannot read
      }
    }

    private void answers(GrpcClientResponse<Req, Resp> answers) {
      answers.handler(answer -> {
        if (done) {
          return;
        }
        try {
          response.write("{\"result\":" + PRINTER.print(answer) + "}\n");
        } catch (InvalidProtocolBufferException e) {
          end(GrpcStatus.INTERNAL, e.getMessage());
          return;
        }
        if (response.writeQueueFull()) {
          answers.pause();
          response.drainHandler(v -> answers.resume());
        }
      });
      answers.endHandler(v -> {
        callEnded = true;
        if (answers.status() == GrpcStatus.OK) {
          end(null, null);
        } else {
          String message = GrpcStatusMessage.received(answers);
          end(answers.status(), message == null ? "" : message);
        }
      });
      answers.exceptionHandler(e -> {
        callEnded = true;
        end(GrpcStatus.UNAVAILABLE, e.getMessage());
      });
    }

    /** Ends the HTTP answer, with an error line when {@code status} is given, and the call if still open. */
    private void end(GrpcStatus status, String message) {
      if (done) {
        return;
      }
      if (!response.ended() && !response.closed()) {
        if (status != null) {
          response.write(new JsonObject().put("error", message).put("message", message).put("code", status.code)
              .encode());
        }
        response.end();
      }
      finish();
    }

    private void finish() {
      if (done) {
        return;
      }
      done = true;
      if (call != null && !callEnded) {
        call.cancel();
      }
    }
  }

  /**
   * Splits a byte stream into the JSON objects it holds one after another ({@code {...}{...}}, with or without
   * whitespace between), as grpc-gateway reads a streaming call's body. It looks at bytes only: in UTF-8, no byte
   * of a multi-byte character is one of JSON's ASCII marks, so a character cut between two chunks is harmless.
   * Anything else between objects, or one object over the bound, is an error.
   */
  static final class JsonSplitter {
    private final long maxObjectBytes;
    private Buffer current = Buffer.buffer();
    private int depth;
    private boolean inString;
    private boolean escaped;

    JsonSplitter(long maxObjectBytes) {
      this.maxObjectBytes = maxObjectBytes;
    }

    java.util.List<String> add(Buffer chunk) {
      java.util.List<String> objects = new java.util.ArrayList<>();
      for (int i = 0; i < chunk.length(); i++) {
        byte c = chunk.getByte(i);
        if (depth == 0) {
          if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
          }
          if (c != '{') {
            throw new IllegalArgumentException("expected '{' where the next request starts");
          }
        }
        current.appendByte(c);
        if (current.length() > maxObjectBytes) {
          throw new IllegalArgumentException("a request of over " + maxObjectBytes + " bytes");
        }
        if (inString) {
          if (escaped) {
            escaped = false;
          } else if (c == '\\') {
            escaped = true;
          } else if (c == '"') {
            inString = false;
          }
        } else if (c == '"') {
          inString = true;
        } else if (c == '{' || c == '[') {
          depth++;
        } else if (c == '}' || c == ']') {
          depth--;
          if (depth == 0) {
            objects.add(current.toString(java.nio.charset.StandardCharsets.UTF_8));
            current = Buffer.buffer();
          }
        }
      }
      return objects;
    }
  }

  private static void error(HttpServerResponse response, GrpcStatus status, String message) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(httpStatus(status)).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).put("message", message).put("code", status.code).encode());
  }

  /** grpc-gateway's HTTP status for a gRPC code. */
  static int httpStatus(GrpcStatus status) {
    return switch (status) {
      case OK -> 200;
      case CANCELLED -> 408;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      default -> 500;
    };
  }

  public Future<Void> close() {
    return client.close();
  }
}
