package dev.valet.donor.server;

import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.HelloOk;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.store.SlabStore;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every connection of one donor shares: the slab store, the free-memory trend, the counters behind STATS,
 * and the facts announced in HELLO_OK.
 */
public final class Donor {
    private final SlabStore store;
    private final FreeMemoryTrend freeMemory;
    private final HelloOk helloOk;
    private final AtomicInteger clients = new AtomicInteger();
    private final LongAdder pageOps = new LongAdder();
    private long lastOpsTotal;
    private long lastRateNanos = System.nanoTime();
    private volatile long pageOpsPerSecond;

    public Donor(SlabStore store, FreeMemoryTrend freeMemory, HelloOk helloOk) {
        this.store = store;
        this.freeMemory = freeMemory;
        this.helloOk = helloOk;
    }

    public SlabStore store() {
        return store;
    }

    public HelloOk helloOk() {
        return helloOk;
    }

    public int maxFrameBytes() {
        return helloOk.maxFrameBytes();
    }

    void clientJoined() {
        clients.incrementAndGet();
    }

    void clientLeft() {
        clients.decrementAndGet();
    }

    void pagesServed(int pages) {
        pageOps.add(pages);
    }

    /** Called by the sampling thread each interval: takes a free-memory sample and updates the page rate. */
    public void sample(long nanos, long availableBytes) {
        freeMemory.onSample(nanos, availableBytes);
        long total = pageOps.sum();
        long dt = nanos - lastRateNanos;
        if (dt > 0) {
            pageOpsPerSecond = Math.round((total - lastOpsTotal) * 1e9 / dt);
        }
        lastOpsTotal = total;
        lastRateNanos = nanos;
    }

    /** The STATS_OK a client sees now. */
    public DonorStats stats() {
        long lent = store.lentBytes();
        long limit = store.lendLimitBytes();
        long free = Math.max(0, freeMemory.smoothedBytes());
        long offered = Math.max(0, Math.min(limit - lent, free));
        return new DonorStats(limit, lent, offered, free, freeMemory.gradientBytesPerSecond(), store.slabCount(),
                clients.get(), pageOpsPerSecond);
    }
}
