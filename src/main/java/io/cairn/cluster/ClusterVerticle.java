package io.cairn.cluster;

import io.cairn.bus.Addresses;
import io.cairn.bus.ClusterInfo;
import io.cairn.bus.Heartbeats;
import io.cairn.bus.Listeners;
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
 * {@code <data-dir>/cluster/identity.json}; afterwards it reports this single member. Raft (Apache Ratis) joins here
 * with the cluster work.
 */
public final class ClusterVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterVerticle.class);
  private static final String NAME = "cluster";

  private final Path dataDir;
  private final String memberName;

  public ClusterVerticle(Path dataDir, String memberName) {
    this.dataDir = dataDir;
    this.memberName = memberName;
  }

  @Override
  public void start(Promise<Void> startPromise) {
    vertx.executeBlocking(() -> loadOrCreateIdentity(dataDir.resolve("cluster").resolve("identity.json")))
        .onSuccess(identity -> {
          long clusterId = Long.parseUnsignedLong(identity.getString("cluster_id"), 16);
          long memberId = Long.parseUnsignedLong(identity.getString("member_id"), 16);
          vertx.eventBus().localConsumer(Addresses.CLUSTER_INFO, msg -> msg.reply(info(clusterId, memberId)));
          Heartbeats.start(vertx, NAME);
        })
        .<Void>mapEmpty()
        .onComplete(startPromise);
  }

  /** Client URLs are those of the gRPC fronts listening now (all share one port). */
  private ClusterInfo info(long clusterId, long memberId) {
    List<String> clientUrls = Listeners.all(vertx).entrySet().stream()
        .filter(e -> e.getKey().startsWith("grpc-front-"))
        .map(e -> "http://" + e.getValue())
        .distinct()
        .toList();
    return new ClusterInfo(clusterId, memberId, memberId, 0, List.of(
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
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, identity.encodePrettily(), StandardCharsets.UTF_8);
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
    LOG.info("new member identity: cluster {} member {}", identity.getString("cluster_id"),
        identity.getString("member_id"));
    return identity;
  }

  private static long nonZero(SecureRandom random) {
    long v;
    do {
      v = random.nextLong();
    } while (v == 0);
    return v;
  }
}
