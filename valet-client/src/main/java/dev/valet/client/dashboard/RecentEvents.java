package dev.valet.client.dashboard;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The last {@link #CAPACITY} things worth telling an operator (a donor died, re-replication done), newest first. */
public final class RecentEvents {
    public static final int CAPACITY = 50;

    /**
     * @param time when it was seen, ISO-8601 UTC
     * @param text what happened, one line
     */
    public record Event(String time, String text) {
    }

    private final ArrayDeque<Event> events = new ArrayDeque<>();

    public synchronized void add(String text) {
        events.addFirst(new Event(Instant.now().toString(), text));
        while (events.size() > CAPACITY) {
            events.removeLast();
        }
    }

    public synchronized List<Event> list() {
        return new ArrayList<>(events);
    }
}
