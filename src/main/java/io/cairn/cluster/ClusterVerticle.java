package io.cairn.cluster;

import io.cairn.Version;
import io.cairn.bus.Addresses;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.Listeners;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;

/**
 * Membership. Standalone mode: on first start it generates a cluster id and a member id and persists them in
 * {@code <data-dir>/cluster/identity.json}; afterwards it reports this single member. Each start is the member's own
 * election, as a single etcd member's is: the term, kept in the same file, goes up by one, so the raft term that
 * {@code Status} and response headers carry tells starts apart. Raft (Apache Ratis) joins here with the cluster work.
 */
public final class ClusterVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterVerticle.class);
  private static final String NAME = "cluster";

  private final Path dataDir;
  private final String memberName;
  private final MeterRegistry registry;
  /** The member leading the cluster, 0 while none does; a standalone member leads from its start. */
  private volatile long leaderId;

  public ClusterVerticle(Path dataDir, String memberName, MeterRegistry registry) {
    this.dataDir = dataDir;
    this.memberName = memberName;
    this.registry = registry;
  }

  @Override
  public void start(Promise<Void> startPromise) {
    Path file = dataDir.resolve("cluster").resolve("identity.json");
    vertx.executeBlocking(() -> startTerm(file, loadOrCreateIdentity(file)))
        .onSuccess(identity -> {
          long clusterId = Long.parseUnsignedLong(identity.getString("cluster_id"), 16);
          long memberId = Long.parseUnsignedLong(identity.getString("member_id"), 16);
          long term = identity.getLong("term");
          leaderId = memberId;
          vertx.eventBus().localConsumer(Addresses.CLUSTER_INFO, msg -> msg.reply(info(clusterId, memberId, term)));
          registerMetrics(memberId);
          Heartbeats.start(vertx, NAME);
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  /**
   * etcd's membership metrics, for its dashboards and alerts (etcdNoLeader, etcdHighNumberOfLeaderChanges). A
   * standalone member leads from its start: one leader change seen, as a fresh etcd member reports.
   */
  private void registerMetrics(long memberId) {
    Gauge.builder("etcd.server.has.leader", () -> leaderId != 0 ? 1 : 0)
        .description("Whether or not a leader exists. 1 is existence, 0 is not.").register(registry);
    Gauge.builder("etcd.server.is.leader", () -> leaderId == memberId ? 1 : 0)
        .description("Whether or not this member is a leader. 1 if is, 0 otherwise.").register(registry);
    Gauge.builder("etcd.server.is.learner", () -> 0)
        .description("Whether or not this member is a learner. 1 if is, 0 otherwise.").register(registry);
    Counter.builder("etcd.server.leader.changes.seen").description("The number of leader changes seen.")
        .register(registry).increment();
    Gauge.builder("etcd.server.id", () -> 1).tag("server_id", Long.toHexString(memberId))
        .description("Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.")
        .register(registry);
    Gauge.builder("etcd.server.version", () -> 1).tag("server_version", Version.ETCD_COMPATIBLE)
        .description("Which version is running. 1 for 'server_version' label with current version.")
        .register(registry);
    Gauge.builder("etcd.cluster.version", () -> 1)
        .tag("cluster_version", Version.ETCD_CLUSTER.substring(0, Version.ETCD_CLUSTER.lastIndexOf('.')))
        .description("Which version is running. 1 for 'cluster_version' label with current cluster version")
        .register(registry);
  }

  /** Client URLs are those of the gRPC fronts listening now (all share one port). */
  private ClusterInfo info(long clusterId, long memberId, long term) {
    List<String> clientUrls = Listeners.all(vertx).entrySet().stream()
        .filter(e -> e.getKey().startsWith("grpc-front-"))
        .map(e -> "http://" + e.getValue())
        .distinct()
        .toList();
    return new ClusterInfo(clusterId, memberId, leaderId, term, List.of(
        new ClusterInfo.Member(memberId, memberName, List.of(), clientUrls, false)));
  }

  @Override
  public void stop() {
    Heartbeats.stop(vertx, NAME);
  }

  private static JsonObject loadOrCreateIdentity(Path file) throws IOException {
    if (Files.exists(file)) {
      JsonObject identity = new JsonObject(Files.readString(file));
      if (identity.getString("cluster_id") == null || identity.getString("member_id") == null) {
        throw new IOException(file + " is damaged: it lacks cluster_id or member_id");
      }
      return identity;
    }
    SecureRandom random = new SecureRandom();
    JsonObject identity = new JsonObject()
        .put("cluster_id", Long.toHexString(nonZero(random)))
        .put("member_id", Long.toHexString(nonZero(random)))
        .put("created", Instant.now().toString());
    Files.createDirectories(file.getParent());
    write(file, identity);
    LOG.info("new member identity: cluster {} member {}", identity.getString("cluster_id"),
        identity.getString("member_id"));
    return identity;
  }

  /**
   * The member's term for this start: one past the last start's, durable before the member leads in it. A new
   * member stands for election from term 1, as a new etcd member does after bootstrapping in it, so it leads in 2.
   */
  private static JsonObject startTerm(Path file, JsonObject identity) throws IOException {
    Object last = identity.getValue("term", 1L);
    if (!(last instanceof Number n) || n.longValue() < 0) {
      throw new IOException(file + " is damaged: its term is not a number of terms: " + last);
    }
    identity.put("term", n.longValue() + 1);
    write(file, identity);
    return identity;
  }

  /** Replaces the file with the identity at once and durably: a crash leaves the old file or the new one. */
  private static void write(Path file, JsonObject identity) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, identity.encodePrettily(), StandardCharsets.UTF_8);
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  private static long nonZero(SecureRandom random) {
    long v;
    do {
      v = random.nextLong();
    } while (v == 0);
    return v;
  }
}
