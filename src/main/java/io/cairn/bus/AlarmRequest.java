package io.cairn.bus;

/** Reads ({@code GET}), raises or clears an alarm; the answer is an {@link AlarmReply}. */
public record AlarmRequest(Action action, long memberId, AlarmType type) {

  public enum Action { GET, ACTIVATE, DEACTIVATE }

  public enum AlarmType { NONE, NOSPACE, CORRUPT }
}
