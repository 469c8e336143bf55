package io.cairn.bus;

import java.util.List;

/** Published by the writer after each durable group commit: its events in revision order, and the new revision. */
public record CommittedEvents(long revision, List<Event> events) {}
