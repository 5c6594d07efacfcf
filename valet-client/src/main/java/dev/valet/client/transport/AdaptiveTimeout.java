package dev.valet.client.transport;

import java.time.Duration;

/**
 * How long one request may wait for its reply on one connection: never less than the configured
 * {@code requestTimeout}, and more for a peer whose answers are slow, so that a donor on a busy machine is not taken
 * for a dead one after one slow answer. Round trips are smoothed as TCP does (RFC 6298: a mean and a mean
 * deviation); the timeout is eight times the mean plus four deviations, between the configured floor and a ceiling
 * of {@value #CEILING_FACTOR} times it. Thread-safe without locks: a lost update only loses one sample.
 */
public final class AdaptiveTimeout {
    static final int CEILING_FACTOR = 8;

    private final long floorNanos;
    private final long ceilingNanos;
    private volatile long smoothedNanos;
    private volatile long deviationNanos;

    public AdaptiveTimeout(Duration floor) {
        this.floorNanos = floor.toNanos();
        this.ceilingNanos = Math.multiplyExact(floorNanos, CEILING_FACTOR);
    }

    /** One request's round trip. */
    public void observe(long rttNanos) {
        long srtt = smoothedNanos;
        if (srtt == 0) {
            smoothedNanos = rttNanos;
            deviationNanos = rttNanos / 2;
            return;
        }
        long err = rttNanos - srtt;
        deviationNanos += (Math.abs(err) - deviationNanos) / 4;
        smoothedNanos = srtt + err / 8;
    }

    /** The timeout for the next request, in nanoseconds. */
    public long nanos() {
        long t = 8 * smoothedNanos + 4 * deviationNanos;
        return Math.max(floorNanos, Math.min(ceilingNanos, t));
    }

    /** The same, for messages. */
    public long millis() {
        return nanos() / 1_000_000;
    }
}
