package io.cairn.bus;

import java.util.List;

/** Identity of the cluster and of this member; in standalone mode the member list holds this member only. */
public record ClusterInfo(long clusterId, long memberId, long raftTerm, List<Member> members) {

  public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner) {}
}
