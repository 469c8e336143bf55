package io.cairn.front;

import com.google.protobuf.Descriptors;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.AsciiString;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.grpc.server.Service;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gRPC server metrics etcd exports (those of go-grpc-prometheus), under the same names and labels, for every
 * method of every service a front serves: {@code grpc_server_started_total{grpc_type,grpc_service,grpc_method}} and
 * {@code grpc_server_handled_total{...,grpc_code}}, with Go's names for the codes. etcd's dashboards and alerts read
 * them (request and failure rates, open watch and keep-alive streams). A call counts as handled when its response
 * ends, with the status it ended with, or as {@code Canceled} when its stream closes first (the response's end
 * handler, which {@code QueryFrontVerticle} sets, calls {@link Method#ended}). One instance per front; the counters
 * are the registry's, shared by the fronts.
 */
public final class GrpcServerMetrics {

  /** gRPC status codes by number, as grpc-go prints them. */
  private static final List<String> CODE_NAMES = List.of("OK", "Canceled", "Unknown", "InvalidArgument",
      "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated");
  private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  private static final int CANCELLED = 1;
  private static final int UNKNOWN = 2;

  private final MeterRegistry registry;
  /** By request path, {@code /service/method}. */
  private final Map<String, Method> methods = new HashMap<>();

  public GrpcServerMetrics(MeterRegistry registry, List<Service> services) {
    this.registry = registry;
    for (Service service : services) {
      Descriptors.ServiceDescriptor descriptor = service.descriptor();
      if (descriptor == null) {
        continue;
      }
      for (Descriptors.MethodDescriptor method : descriptor.getMethods()) {
        methods.put("/" + descriptor.getFullName() + "/" + method.getName(),
            new Method(descriptor.getFullName(), method.getName(), typeOf(method)));
      }
    }
  }

  private static String typeOf(Descriptors.MethodDescriptor method) {
    if (method.isClientStreaming()) {
      return method.isServerStreaming() ? "bidi_stream" : "client_stream";
    }
    return method.isServerStreaming() ? "server_stream" : "unary";
  }

  /**
   * Counts a gRPC request as started and returns its method, whose {@link Method#ended} counts it as handled once
   * its response has ended; null for a path no service has.
   */
  public Method started(HttpServerRequest request) {
    Method method = methods.get(request.uri());
    if (method != null) {
      method.started.increment();
    }
    return method;
  }

  /** The status a response ended with: in its trailers, or in its headers when it had nothing else to send. */
  private static int statusOf(HttpServerResponse response) {
    if (!response.ended()) {
      return CANCELLED;
    }
    String status = response.trailers().get(GRPC_STATUS);
    if (status == null) {
      status = response.headers().get(GRPC_STATUS);
    }
    if (status == null) {
      return UNKNOWN;
    }
    try {
      int code = Integer.parseInt(status);
      return code >= 0 && code < CODE_NAMES.size() ? code : UNKNOWN;
    } catch (NumberFormatException e) {
      return UNKNOWN;
    }
  }

  /** One method's counters; {@code handled} made per code on first use, OK's at once so the series starts at 0. */
  public final class Method {
    private final String service;
    private final String method;
    private final String type;
    private final boolean oneRequestMessage;
    private final Counter started;
    private final Counter[] handled = new Counter[CODE_NAMES.size()];

    Method(String service, String method, String type) {
      this.service = service;
      this.method = method;
      this.type = type;
      this.oneRequestMessage = type.equals("unary") || type.equals("server_stream");
      this.started = Counter.builder("grpc.server.started")
          .description("Total number of RPCs started on the server.")
          .tag("grpc_type", type).tag("grpc_service", service).tag("grpc_method", method)
          .register(registry);
      handled(0);
    }

    /** Whether its client sends one message: a unary or server-streaming method. */
    public boolean oneRequestMessage() {
      return oneRequestMessage;
    }

    /** Counts a call as handled, with the status its response ended with; call it once the response has ended. */
    public void ended(HttpServerResponse response) {
      handled(statusOf(response)).increment();
    }

    private Counter handled(int code) {
      Counter counter = handled[code];
      if (counter == null) {
        counter = Counter.builder("grpc.server.handled")
            .description("Total number of RPCs completed on the server, regardless of success or failure.")
            .tag("grpc_type", type).tag("grpc_service", service).tag("grpc_method", method)
            .tag("grpc_code", CODE_NAMES.get(code))
            .register(registry);
        handled[code] = counter;
      }
      return counter;
    }
  }
}
