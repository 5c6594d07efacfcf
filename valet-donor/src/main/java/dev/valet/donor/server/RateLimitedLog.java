package dev.valet.donor.server;

import org.slf4j.Logger;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * WARN lines that a flood cannot multiply: at most one per interval; the lines dropped meanwhile are counted in the
 * next one ("(and 341 more like it)"). Shared by all connections of one donor.
 */
final class RateLimitedLog {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextNanos = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    RateLimitedLog(Logger log, long interval, TimeUnit unit) {
        this.log = log;
        this.intervalNanos = unit.toNanos(interval);
    }

    /** Logs {@code message} at WARN unless a line was logged less than one interval ago. */
    void warn(String message) {
        long now = System.nanoTime();
        long next = nextNanos.get();
        if ((next != Long.MIN_VALUE && now - next < 0) || !nextNanos.compareAndSet(next, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return;
        }
        long dropped = suppressed.getAndSet(0);
        log.warn(dropped == 0 ? message : message + " (and " + dropped + " more refusals not logged)");
    }
}
