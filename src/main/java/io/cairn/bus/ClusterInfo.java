package io.cairn.bus;

import java.util.List;

/**
 * Identity of the cluster and of this member, and the current leader (0 when none is known). In standalone mode
 * the member list holds this member only, and it is its own leader.
 */
public record ClusterInfo(long clusterId, long memberId, long leaderId, long raftTerm, List<Member> members) {

  public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner) {}
}
