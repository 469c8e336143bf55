package io.cairn.bus;

import java.util.List;

/** The alarms the request touched (for GET: all that are raised), and the store revision. */
public record AlarmReply(long revision, List<Alarm> alarms) {

  public record Alarm(long memberId, AlarmRequest.AlarmType type) {}
}
