package dev.valet.donor.memory;

/**
 * Smooths a stream of free-memory samples and tells which way it is heading: an EWMA of the samples
 * ({@code ewma = w * sample + (1 - w) * ewma}) and its gradient in bytes per second over a sliding window (as
 * CNetMem's ranking uses it: a donor whose free memory falls fast is a poor place for new slabs). Not thread-safe:
 * one sampling thread writes, readers see the published volatile values.
 */
public final class FreeMemoryTrend {
    private final double weight;
    private final long[] times;
    private final long[] values;
    private int next;
    private int filled;
    private volatile long smoothedBytes = -1;
    private volatile long gradientBytesPerSecond;

    /**
     * @param weight        weight of the newest sample, in (0, 1]
     * @param windowSamples how many samples back the gradient looks (at least 1)
     */
    public FreeMemoryTrend(double weight, int windowSamples) {
        if (!(weight > 0 && weight <= 1)) {
            throw new IllegalArgumentException("EWMA weight " + weight + " outside (0, 1]");
        }
        if (windowSamples < 1) {
            throw new IllegalArgumentException("gradient window of " + windowSamples + " samples");
        }
        this.weight = weight;
        this.times = new long[windowSamples + 1];
        this.values = new long[windowSamples + 1];
    }

    /** Adds a sample of {@code freeBytes} taken at {@code nanos} (monotonic). */
    public void onSample(long nanos, long freeBytes) {
        long prev = smoothedBytes;
        long ewma = prev < 0 ? freeBytes : Math.round(weight * freeBytes + (1 - weight) * prev);
        times[next] = nanos;
        values[next] = ewma;
        next = (next + 1) % times.length;
        filled = Math.min(filled + 1, times.length);
        int oldest = filled < times.length ? 0 : next;
        int newest = (next + times.length - 1) % times.length;
        long dt = times[newest] - times[oldest];
        gradientBytesPerSecond = dt <= 0 ? 0 : Math.round((values[newest] - values[oldest]) * 1e9 / dt);
        smoothedBytes = ewma;
    }

    /** The smoothed free memory, or -1 before the first sample. */
    public long smoothedBytes() {
        return smoothedBytes;
    }

    /** Bytes per second over the window; negative while free memory shrinks; 0 until two samples exist. */
    public long gradientBytesPerSecond() {
        return gradientBytesPerSecond;
    }
}
