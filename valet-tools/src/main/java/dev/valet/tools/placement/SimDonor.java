package dev.valet.tools.placement;

import dev.valet.client.engine.placement.DonorSignals;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.random.RandomGenerator;

/**
 * One simulated donor host in {@link PlacementSimulation}: memory its host workload leaves free, the slab copies it
 * holds, and what its STATS would report. One step is one STATS sample, taken as one second, so the gradient is in
 * bytes per second as the real donor reports it.
 */
public final class SimDonor {
    static final long GIB = 1L << 30;
    static final long SLAB_BYTES = GIB;
    /** Below this much free memory the donor evicts slabs; it never lends into it (Infiniswap's headroom). */
    static final long HEADROOM_BYTES = 8 * GIB;
    static final double EWMA_WEIGHT = 0.7;
    static final int GRADIENT_WINDOW = 8;
    static final double PAGE_OPS_PER_SLAB = 250;
    static final double LATENCY_NANOS_PER_PAGE_OP = 1;

    private final long capacityBytes;
    private final double trendBytesPerStep;
    private final int trendStartStep;
    private final long baseLatencyNanos;
    private final Deque<Integer> slabs = new ArrayDeque<>();
    private final long[] recentEwma = new long[GRADIENT_WINDOW + 1];
    private int samples;
    private long hostFreeBytes;
    private long ewmaBytes = -1;
    private long gradientBytesPerSecond;

    private SimDonor(long capacityBytes, double trendBytesPerStep, int trendStartStep, long baseLatencyNanos) {
        this.capacityBytes = capacityBytes;
        this.trendBytesPerStep = trendBytesPerStep;
        this.trendStartStep = trendStartStep;
        this.baseLatencyNanos = baseLatencyNanos;
        this.hostFreeBytes = capacityBytes;
    }

    /**
     * A donor of the default scenario: 16..256 GiB lendable; if {@code shrinking}, a host workload starting at a
     * random step of the run takes 0.05..0.5 GiB more every second, else free memory holds or grows by up to
     * 0.02 GiB/s; base latency 5..50 µs. Always takes the same number of draws, so the scenario does not depend on
     * which donors shrink.
     */
    static SimDonor random(RandomGenerator r, int steps, boolean shrinking) {
        long capacity = r.nextLong(16 * GIB, 256 * GIB + 1);
        double shrinkRate = r.nextDouble(0.05, 0.5) * GIB;
        int shrinkStart = r.nextInt(steps);
        double growthRate = r.nextDouble(0, 0.02) * GIB;
        long latency = r.nextLong(5_000, 50_001);
        return shrinking
                ? new SimDonor(capacity, -shrinkRate, shrinkStart, latency)
                : new SimDonor(capacity, growthRate, 0, latency);
    }

    /** Moves the host workload to {@code step}, with {@code noiseBytes} of jitter on top of its trend. */
    void hostAt(int step, long noiseBytes) {
        long drift = Math.round(trendBytesPerStep * Math.max(0, step - trendStartStep));
        hostFreeBytes = capacityBytes + drift + noiseBytes;
    }

    boolean mustEvict() {
        return !slabs.isEmpty() && freeBytes() < HEADROOM_BYTES;
    }

    /** Drops the slab copy placed here most recently and returns its slab. */
    int evictNewest() {
        return slabs.pop();
    }

    void hold(int slab) {
        slabs.push(slab);
    }

    int slabCount() {
        return slabs.size();
    }

    /** Takes a STATS sample: EWMA of free memory and its gradient over the window, as the real donor computes. */
    void sample() {
        long free = freeBytes();
        ewmaBytes = ewmaBytes < 0 ? free : Math.round(EWMA_WEIGHT * free + (1 - EWMA_WEIGHT) * ewmaBytes);
        recentEwma[samples % recentEwma.length] = ewmaBytes;
        samples++;
        int span = Math.min(samples - 1, GRADIENT_WINDOW);
        long oldest = recentEwma[(samples - 1 - span) % recentEwma.length];
        gradientBytesPerSecond = span == 0 ? 0 : (ewmaBytes - oldest) / span;
    }

    /** What placement sees: the last sample's EWMA and gradient; current offer, load and latency. */
    public DonorSignals signals() {
        double pageOps = slabs.size() * PAGE_OPS_PER_SLAB;
        return new DonorSignals(ewmaBytes, gradientBytesPerSecond, Math.max(0, freeBytes() - HEADROOM_BYTES),
                pageOps, baseLatencyNanos + Math.round(pageOps * LATENCY_NANOS_PER_PAGE_OP));
    }

    private long freeBytes() {
        return Math.max(0, hostFreeBytes - slabs.size() * SLAB_BYTES);
    }
}
