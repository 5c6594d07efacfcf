package dev.valet.donor.server;

import dev.valet.common.config.HeadroomConfig;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.EvictRequest;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.Opcode;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.memory.HeadroomGuard;
import dev.valet.donor.store.SlabKey;
import dev.valet.donor.store.SlabStore;
import io.netty.channel.Channel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every connection of one donor shares: the slab store, the free-memory trend and the headroom guard, the
 * counters behind STATS, the facts announced in HELLO_OK, and each client identity's working connection (the one
 * that last allocated or wrote: where an EVICT for that client goes).
 */
public final class Donor {
    private final SlabStore store;
    private final FreeMemoryTrend freeMemory;
    private final HeadroomGuard headroom;
    private final HelloOk helloOk;
    private final ConcurrentHashMap<String, Channel> ownerChannels = new ConcurrentHashMap<>();
    private final AtomicInteger clients = new AtomicInteger();
    private final LongAdder pageOps = new LongAdder();
    private long lastOpsTotal;
    private long lastRateNanos = System.nanoTime();
    private volatile long pageOpsPerSecond;

    public Donor(SlabStore store, FreeMemoryTrend freeMemory, HelloOk helloOk, HeadroomConfig headroomConfig) {
        this.store = store;
        this.freeMemory = freeMemory;
        this.helloOk = helloOk;
        this.headroom = new HeadroomGuard(headroomConfig, store, this::sendEvict);
    }

    public HeadroomGuard headroom() {
        return headroom;
    }

    /** {@code channel} allocates or writes for {@code identity}: EVICTs for that client go there from now on. */
    void ownerActive(String identity, Channel channel) {
        if (ownerChannels.get(identity) != channel) {
            ownerChannels.put(identity, channel);
        }
    }

    void ownerGone(String identity, Channel channel) {
        ownerChannels.remove(identity, channel);
    }

    private boolean sendEvict(SlabKey slab, long requestId, long deadlineMillis) {
        Channel ch = ownerChannels.get(slab.owner());
        if (ch == null || !ch.isActive()) {
            return false;
        }
        ch.writeAndFlush(Frames.encode(ch.alloc(), Opcode.EVICT, FrameHeader.DONOR_REQUEST_BIT | requestId,
                new EvictRequest(slab.slabId(), deadlineMillis)), ch.voidPromise());
        return true;
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
        headroom.onSample(nanos, freeMemory.smoothedBytes());
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
        long free = Math.max(0, freeMemory.smoothedBytes());
        return new DonorStats(store.lendLimitBytes(), store.lentBytes(), headroom.offeredBytes(), free,
                freeMemory.gradientBytesPerSecond(), store.slabCount(), clients.get(), pageOpsPerSecond,
                headroom.evictionsRequested(), headroom.evictionsCompleted(), headroom.evictionsTimedOut(),
                headroom.evictionsDeclined(), headroom.unusedSlabsReclaimed());
    }
}
