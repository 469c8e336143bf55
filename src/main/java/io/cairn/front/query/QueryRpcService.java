package io.cairn.front.query;

import com.google.protobuf.Descriptors;
import io.cairn.bus.CairnException;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.KvOp;
import io.cairn.bus.KvResult;
import io.cairn.config.CairnConfig;
import io.cairn.front.OpenStreams;
import io.cairn.front.RpcGuard;
import io.cairn.front.StorageClient;
import io.cairn.Version;
import io.cairn.ops.Probes;
import io.cairn.proto.v1.BatchRequest;
import io.cairn.proto.v1.HealthCheckResponse;
import io.cairn.proto.v1.ServerInfo;
import io.micrometer.core.instrument.MeterRegistry;
import io.cairn.proto.v1.BatchResponse;
import io.cairn.proto.v1.Query;
import io.cairn.proto.v1.QueryRequest;
import io.cairn.proto.v1.QueryResponse;
import io.cairn.proto.v1.QueryServiceGrpcService;
import io.cairn.proto.v1.ResponseHeader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** {@code cairn.v1.QueryService}: the native collection API, served from storage over the bus. */
public final class QueryRpcService implements Service {

  private static final List<String> CAPABILITIES = List.of("get", "set", "delete", "range", "filter", "update",
      "batch", "stream", "interactive", "json-field-predicates", "continuation-token", "protocol-version",
      "etcd-v3", "grpc-health", "grpc-reflection");

  private final Vertx vertx;
  private final RpcGuard guard;
  private final StorageClient storage;
  private final QueryTranslator translator;
  private final CairnConfig.Limits limits;
  private final CairnConfig.Stream streams;
  private final ClusterInfo cluster;
  private final Probes probes;
  private final StreamMetrics metrics;
  private final Headers headers;
  private final StreamRoom streamRoom;
  private final OpenStreams openStreams;

  public QueryRpcService(Vertx vertx, RpcGuard guard, StorageClient storage, CairnConfig config, ClusterInfo cluster,
                         Probes probes, MeterRegistry registry, OpenStreams openStreams) {
    this.vertx = vertx;
    this.openStreams = openStreams;
    this.guard = guard;
    this.storage = storage;
    this.limits = config.limits();
    this.streams = config.stream();
    this.translator = new QueryTranslator(limits);
    this.cluster = cluster;
    this.probes = probes;
    this.metrics = StreamMetrics.of(registry);
    this.headers = new Headers(cluster);
    long maxStreamBytes = streams.maxFrontBytes() > 0 ? streams.maxFrontBytes()
        : StreamRoom.defaultMaxBytes(config.front().instances());
    // a chunk closes once it holds chunk-bytes: it may carry one largest key and value more
    this.streamRoom = new StreamRoom(maxStreamBytes,
        (long) streams.chunkBytes() + limits.maxKeySize() + limits.maxValueSize(), metrics);
  }

  /** Response headers of this member. */
  record Headers(ClusterInfo cluster) {
    ResponseHeader at(long revision) {
      return ResponseHeader.newBuilder()
          .setClusterId(cluster.clusterId())
          .setMemberId(cluster.memberId())
          .setRevision(revision)
          .setRaftTerm(cluster.raftTerm())
          .build();
    }
  }

  @Override
  public ServiceName name() {
    return QueryServiceGrpcService.SERVICE_NAME;
  }

  @Override
  public Descriptors.ServiceDescriptor descriptor() {
    return QueryServiceGrpcService.SERVICE_DESCRIPTOR;
  }

  @Override
  public void bind(GrpcServer server) {
    server.callHandler(QueryServiceGrpcService.ExecuteQuery,
        request -> guard.unary(request, m -> (long) m.getTimeoutMs(), this::executeQuery));
    server.callHandler(QueryServiceGrpcService.ExecuteBatch,
        request -> guard.unary(request, m -> (long) m.getTimeoutMs(), this::executeBatch));
    server.callHandler(QueryServiceGrpcService.ExecuteStream, request -> {
      RpcGuard.Ticket ticket = guard.admit(request);
      if (ticket != null) {
        new QueryStream(vertx, storage, translator, streams, metrics, headers, request, ticket, streamRoom).start();
      }
    });
    server.callHandler(QueryServiceGrpcService.ExecuteInteractive, request -> {
      RpcGuard.StreamBytes bytes = guard.claimStreamBytes();
      RpcGuard.Ticket ticket = guard.admit(request);
      if (ticket != null) {
        new InteractiveSession(this::executeInteractive, streams.interactiveMaxInflight(), metrics, headers,
            request, ticket, bytes, guard).start(openStreams);
      }
    });
    server.callHandler(QueryServiceGrpcService.GetServerInfo,
        request -> guard.unary(request, m -> 0L, (m, call) -> Future.succeededFuture(serverInfo())));
    server.callHandler(QueryServiceGrpcService.HealthCheck,
        request -> guard.unary(request, m -> 0L, (m, call) -> healthCheck()));
  }

  private Future<QueryResponse> executeInteractive(QueryRequest request) {
    long timeout = request.getTimeoutMs() > 0 ? request.getTimeoutMs() : RpcGuard.DEFAULT_TIMEOUT_MS;
    return executeQuery(request, new RpcGuard.Call(timeout));
  }

  private ServerInfo serverInfo() {
    return ServerInfo.newBuilder()
        .setServerVersion(Version.VERSION)
        .addAllProtocolVersions(ProtocolVersions.SUPPORTED)
        .addAllCapabilities(CAPABILITIES)
        .setUptimeMs(ManagementFactory.getRuntimeMXBean().getUptime())
        .setClusterId(cluster.clusterId())
        .setMemberId(cluster.memberId())
        .build();
  }

  private Future<HealthCheckResponse> healthCheck() {
    return probes.readiness().map(readiness -> {
      HealthCheckResponse.Builder b = HealthCheckResponse.newBuilder().setReady(readiness.ready());
      readiness.checks().forEach((name, failure) -> b.addChecks(HealthCheckResponse.Check.newBuilder()
          .setName(name).setOk(failure == null).setDetail(failure == null ? "" : failure)));
      return b.build();
    });
  }

  Future<QueryResponse> executeQuery(QueryRequest request, RpcGuard.Call call) {
    checkSize(request.getSerializedSize());
    ProtocolVersions.check(request.hasProtocolVersion(), request.getProtocolVersion());
    if (!request.hasQuery()) {
      throw CairnException.invalid("query: missing; set query to one of get, set, delete, range, filter, update");
    }
    Query query = request.getQuery();
    KvOp op = translator.toOp("query", query);
    return run(List.of(op), call).map(outcome -> {
      QueryResponse.Builder response = QueryResponse.newBuilder()
          .setHeader(headers.at(outcome.revision()))
          .setResult(translator.toResult(query, outcome.results().get(0), outcome.revision()));
      if (request.hasRequestId()) {
        response.setRequestId(request.getRequestId());
      }
      return response.build();
    });
  }

  Future<BatchResponse> executeBatch(BatchRequest request, RpcGuard.Call call) {
    checkSize(request.getSerializedSize());
    ProtocolVersions.check(request.hasProtocolVersion(), request.getProtocolVersion());
    int count = request.getQueriesCount();
    if (count == 0) {
      throw CairnException.invalid("queries: the batch is empty; send at least one query");
    }
    if (count > limits.maxBatchOps()) {
      throw CairnException.invalid("queries: the batch has " + count + " queries; the limit is "
          + limits.maxBatchOps() + " (limits.max-batch-ops)");
    }
    List<KvOp> ops = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ops.add(translator.toOp("queries[" + i + "]", request.getQueries(i)));
    }
    return run(ops, call).map(outcome -> {
      BatchResponse.Builder response = BatchResponse.newBuilder().setHeader(headers.at(outcome.revision()));
      for (int i = 0; i < count; i++) {
        response.addResults(translator.toResult(request.getQueries(i), outcome.results().get(i),
            outcome.revision()));
      }
      if (request.hasRequestId()) {
        response.setRequestId(request.getRequestId());
      }
      return response.build();
    });
  }

  private record Outcome(long revision, List<KvResult> results) {}

  /** Reads go to the readers; anything that writes goes, whole, to the single writer. */
  private Future<Outcome> run(List<KvOp> ops, RpcGuard.Call call) {
    boolean writes = ops.stream().anyMatch(KvOp::isWrite);
    if (writes) {
      return storage.write(ops, call.timeoutMs()).map(r -> new Outcome(r.revision(), r.results()));
    }
    call.changesNothing();
    return storage.read(ops, call.timeoutMs()).map(r -> new Outcome(r.revision(), r.results()));
  }

  private void checkSize(int size) {
    if (size > limits.maxRequestSize()) {
      throw CairnException.invalid("the request is " + size + " bytes; the limit is " + limits.maxRequestSize()
          + " bytes (limits.max-request-size)");
    }
  }
}
