package dev.valet.donor.server;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.HeadroomConfig;
import dev.valet.common.config.LimitsConfig;
import dev.valet.common.protocol.ClientShares;
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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * What every connection of one donor shares: the slab store, the free-memory trend and the headroom guard, the
 * counters behind STATS, the facts announced in HELLO_OK, the cluster secret (if any) and the limits, and each client
 * identity's working connection (the one that last allocated or wrote: where an EVICT for that client goes).
 */
public final class Donor {
    private static final AttributeKey<Consumer<ByteBuf>> DONOR_REQUEST_OUTBOX =
            AttributeKey.valueOf("valet.donorRequestOutbox");

    private final SlabStore store;
    private final FreeMemoryTrend freeMemory;
    private final HeadroomGuard headroom;
    private final HelloOk helloOk;
    private final ConcurrentHashMap<String, Channel> ownerChannels = new ConcurrentHashMap<>();
    private final ClusterSecret secret;
    private final LimitsConfig limits;
    private final RateLimitedLog refusals = new RateLimitedLog(LoggerFactory.getLogger(DonorHandler.class), 1,
            TimeUnit.SECONDS);
    private final AtomicInteger clients = new AtomicInteger();
    private final LongAdder pageOps = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder authFailures = new LongAdder();
    private long lastOpsTotal;
    private long lastRateNanos = System.nanoTime();
    private volatile long pageOpsPerSecond;

    /** A donor without a cluster secret, with the default headroom and limits. */
    public Donor(SlabStore store, FreeMemoryTrend freeMemory, HelloOk helloOk) {
        this(store, freeMemory, helloOk, HeadroomConfig.DEFAULTS, null, LimitsConfig.DEFAULTS);
    }

    /** A donor without a cluster secret, with the default limits. */
    public Donor(SlabStore store, FreeMemoryTrend freeMemory, HelloOk helloOk, HeadroomConfig headroomConfig) {
        this(store, freeMemory, helloOk, headroomConfig, null, LimitsConfig.DEFAULTS);
    }

    /** A donor with the default headroom. */
    public Donor(SlabStore store, FreeMemoryTrend freeMemory, HelloOk helloOk, ClusterSecret secret,
                 LimitsConfig limits) {
        this(store, freeMemory, helloOk, HeadroomConfig.DEFAULTS, secret, limits);
    }

    /**
     * @param headroomConfig the free memory kept for the host, and how it is taken back
     * @param secret the cluster secret every client must prove, or {@code null} to serve any client
     * @param limits clients, in-flight requests and timeouts (the store applies {@code maxSlabsPerClient})
     */
    public Donor(SlabStore store, FreeMemoryTrend freeMemory, HelloOk helloOk, HeadroomConfig headroomConfig,
                 ClusterSecret secret, LimitsConfig limits) {
        this.store = store;
        this.freeMemory = freeMemory;
        this.helloOk = helloOk;
        this.headroom = new HeadroomGuard(headroomConfig, store, this::sendEvict);
        this.secret = secret;
        this.limits = limits;
    }

    public HeadroomGuard headroom() {
        return headroom;
    }

    /**
     * Marks a channel whose own thread is not netty's (an RDMA session's embedded channel): the donor's requests
     * (EVICT) for it are not written into it but handed, as encoded frames, to {@code outbox}, which must take them
     * from any thread and send them on the session's own.
     */
    public static void sendDonorRequestsVia(Channel channel, Consumer<ByteBuf> outbox) {
        channel.attr(DONOR_REQUEST_OUTBOX).set(outbox);
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
        EvictRequest evict = new EvictRequest(slab.slabId(), deadlineMillis);
        long id = FrameHeader.DONOR_REQUEST_BIT | requestId;
        Consumer<ByteBuf> outbox = ch.attr(DONOR_REQUEST_OUTBOX).get();
        if (outbox != null) {
            outbox.accept(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.EVICT, id, evict));
        } else {
            ch.writeAndFlush(Frames.encode(ch.alloc(), Opcode.EVICT, id, evict), ch.voidPromise());
        }
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

    /** The secret clients must prove, or empty when this donor serves anyone. */
    public Optional<ClusterSecret> secret() {
        return Optional.ofNullable(secret);
    }

    public LimitsConfig limits() {
        return limits;
    }

    /** Where connections report why they closed a peer: rate-limited, since a flood must not flood the log. */
    void refused(String line) {
        refused.increment();
        refusals.warn(line);
    }

    /** A peer's AUTH proof did not match the cluster secret (it is refused as well). */
    void authFailed() {
        authFailures.increment();
    }

    /** Connections refused so far (bad handshake, wrong secret, too many clients, malformed frames...). */
    public long refusedConnections() {
        return refused.sum();
    }

    /** AUTH proofs that did not match the cluster secret, so far. */
    public long authFailures() {
        return authFailures.sum();
    }

    /** Pages read and written for clients so far. */
    public long pagesServed() {
        return pageOps.sum();
    }

    /** Counts one more client in, unless {@code maxClients} are in already. */
    boolean tryAdmitClient() {
        while (true) {
            int n = clients.get();
            if (n >= limits.maxClients()) {
                return false;
            }
            if (clients.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void clientLeft() {
        clients.decrementAndGet();
    }

    /** Clients admitted and still connected. */
    public int clientCount() {
        return clients.get();
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

    /** The CLIENT_SHARES_OK a client sees now: the largest holdings by identity. */
    public ClientShares clientShares() {
        return ClientShares.largestOf(store.holdings());
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
