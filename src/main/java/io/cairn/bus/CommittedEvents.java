package io.cairn.bus;

import java.util.List;

/**
 * Published by the writer after each durable group commit: its events in revision order, and the new revision. When
 * not {@code complete}, the events were too large to carry (a lease revoke over more than {@code
 * storage.max-read-bytes} of values): {@code events} is empty, and watchers read the group's revisions from history.
 */
public record CommittedEvents(long revision, List<Event> events, boolean complete) {}
