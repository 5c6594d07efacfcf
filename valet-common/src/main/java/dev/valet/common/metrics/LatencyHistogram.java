package dev.valet.common.metrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Request latencies in fixed buckets, from 50 µs to 10 s, recorded without allocating or locking: the I/O path
 * calls {@link #record} with a duration in nanoseconds; a scrape reads the counts. Counts and sum are read without
 * a common lock, so one scrape may see a record's bucket and not yet its sum: fine for a rate over minutes.
 */
public final class LatencyHistogram {
    /** Upper bounds of the buckets, in nanoseconds; the last bucket is everything above. */
    private static final long[] BOUNDS_NANOS = {
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000,
        100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L};
    private static final double NANOS_PER_SECOND = 1e9;

    private final AtomicLongArray counts = new AtomicLongArray(BOUNDS_NANOS.length + 1);
    private final AtomicLong sumNanos = new AtomicLong();

    /** One request took {@code nanos}. */
    public void record(long nanos) {
        int i = 0;
        while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
            i++;
        }
        counts.incrementAndGet(i);
        sumNanos.addAndGet(nanos);
    }

    /** The buckets' upper bounds in seconds, the last {@code +Inf}. */
    public static double[] upperBoundsSeconds() {
        double[] bounds = new double[BOUNDS_NANOS.length + 1];
        for (int i = 0; i < BOUNDS_NANOS.length; i++) {
            bounds[i] = BOUNDS_NANOS[i] / NANOS_PER_SECOND;
        }
        bounds[BOUNDS_NANOS.length] = Double.POSITIVE_INFINITY;
        return bounds;
    }

    /** Requests in each bucket (not cumulative), in the order of {@link #upperBoundsSeconds()}. */
    public long[] bucketCounts() {
        long[] out = new long[counts.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = counts.get(i);
        }
        return out;
    }

    /** Requests recorded. */
    public long count() {
        long n = 0;
        for (int i = 0; i < counts.length(); i++) {
            n += counts.get(i);
        }
        return n;
    }

    /** The sum of the recorded durations, in seconds. */
    public double sumSeconds() {
        return sumNanos.get() / NANOS_PER_SECOND;
    }

    /**
     * The smallest bucket bound below which at least {@code quantile} of the requests fall, in seconds (an upper
     * estimate); 0 when nothing was recorded, {@code +Inf} when the quantile is in the last bucket.
     */
    public double quantileUpperBoundSeconds(double quantile) {
        return quantileUpperBoundSeconds(bucketCounts(), quantile);
    }

    /**
     * {@link #quantileUpperBoundSeconds(double)} of bucket counts such as {@link #bucketCounts()} returns, or the
     * difference of two of them (the requests of an interval).
     */
    public static double quantileUpperBoundSeconds(long[] counts, double quantile) {
        long total = 0;
        for (long n : counts) {
            total += n;
        }
        if (total == 0) {
            return 0;
        }
        double[] bounds = upperBoundsSeconds();
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= quantile * total) {
                return bounds[i];
            }
        }
        return Double.POSITIVE_INFINITY;
    }
}
