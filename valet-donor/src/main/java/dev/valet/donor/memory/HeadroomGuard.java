package dev.valet.donor.memory;

import dev.valet.common.config.HeadroomConfig;
import dev.valet.common.config.VictimPolicy;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.donor.store.Slab;
import dev.valet.donor.store.SlabKey;
import dev.valet.donor.store.SlabStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Keeps the donor's host in memory: at every free-memory sample it compares the EWMA of {@code MemAvailable} with
 * {@code headroom.evictBelow} and {@code headroom.expandAbove} (docs/operations.md).
 * <ul>
 *   <li>Below {@code evictBelow} the donor is <b>under pressure</b>: it offers nothing and refuses new slabs, and it
 *   reclaims enough to get back above {@code evictBelow}: first slabs that hold no written page (freed at once; the
 *   owner's next write there gets {@code NO_SUCH_SLAB} and it places the slab again), then victims by
 *   {@code headroom.victim}, each asked of its owner with an EVICT.</li>
 *   <li>Pressure ends only above {@code expandAbove}; from then on the donor offers up to its {@code memory} cap, but
 *   never more than the free memory above {@code evictBelow}.</li>
 *   <li>An evicted slab is freed only by its owner's FREE_SLAB (the confirmation). An owner that is not connected,
 *   declines, or does not confirm within {@code evictTimeout}: the slab is <b>kept</b> (it may be the last copy),
 *   the pressure is logged at WARN and counted, and the slab is asked for again after a delay that doubles each
 *   time (from {@code evictTimeout} up to {@link #MAX_BACKOFF_NANOS}).</li>
 * </ul>
 * Thread-safe: the sampling thread calls {@link #onSample}, connections call {@link #onFreed} and
 * {@link #onEvictAnswer}; all run under this object's monitor (a few per second, never per page).
 */
public final class HeadroomGuard {
    private static final Logger LOG = LoggerFactory.getLogger(HeadroomGuard.class);
    static final long MAX_BACKOFF_NANOS = 600_000_000_000L;

    /** Sends EVICT to a slab's owner. */
    public interface EvictSender {
        /**
         * Sends EVICT of {@code slab} to its owner's connection with request id {@code requestId}.
         *
         * @return false if the owner has no open connection
         */
        boolean send(SlabKey slab, long requestId, long deadlineMillis);
    }

    private final HeadroomConfig config;
    private final SlabStore store;
    private final EvictSender sender;
    private final long evictTimeoutNanos;
    private final Map<SlabKey, Eviction> evictions = new HashMap<>();
    private final Map<Long, SlabKey> outstandingById = new HashMap<>();
    private long nextRequestId = 1;
    private volatile boolean pressure;
    private volatile long freeBytes = -1;
    private long requested;
    private long completed;
    private long timedOut;
    private long declined;
    private long unusedReclaimed;

    /** What the guard remembers of a slab it has asked for. */
    private static final class Eviction {
        final long bytes;
        long requestId;
        long deadlineNanos;
        boolean outstanding;
        long retryAtNanos;
        long backoffNanos;

        Eviction(long bytes, long firstBackoff) {
            this.bytes = bytes;
            this.backoffNanos = firstBackoff;
        }
    }

    public HeadroomGuard(HeadroomConfig config, SlabStore store, EvictSender sender) {
        this.config = config;
        this.store = store;
        this.sender = sender;
        this.evictTimeoutNanos = config.evictTimeout().toNanos();
    }

    /** Whether the donor is under memory pressure now (lends nothing new). */
    public boolean underPressure() {
        return pressure;
    }

    /** What the donor offers now: 0 under pressure, else up to its cap but never below the evictBelow headroom. */
    public long offeredBytes() {
        long free = freeBytes;
        if (pressure || free < 0) {
            return 0;
        }
        long belowCap = store.lendLimitBytes() - store.lentBytes();
        return Math.max(0, Math.min(belowCap, free - config.evictBelow().bytes()));
    }

    /**
     * One free-memory sample (the EWMA, in bytes) at {@code nowNanos}: updates the pressure state, expires EVICTs
     * past their deadline, and reclaims while free memory is below {@code evictBelow}.
     */
    public synchronized void onSample(long nowNanos, long smoothedFreeBytes) {
        freeBytes = smoothedFreeBytes;
        long below = config.evictBelow().bytes();
        if (smoothedFreeBytes < below && !pressure) {
            pressure = true;
            LOG.warn("memory pressure: free {} is below headroom.evictBelow {}; lending stops and slabs are"
                    + " reclaimed ({})", mib(smoothedFreeBytes), mib(below), summary());
        } else if (pressure && smoothedFreeBytes > config.expandAbove().bytes()) {
            pressure = false;
            LOG.info("memory pressure over: free {} is above headroom.expandAbove {}; offering {} again ({})",
                    mib(smoothedFreeBytes), mib(config.expandAbove().bytes()), mib(offeredBytes()), summary());
        }
        expire(nowNanos);
        if (smoothedFreeBytes < below) {
            reclaim(nowNanos, below - smoothedFreeBytes);
        }
    }

    private void expire(long nowNanos) {
        for (Map.Entry<SlabKey, Eviction> e : evictions.entrySet()) {
            Eviction ev = e.getValue();
            if (ev.outstanding && nowNanos - ev.deadlineNanos > 0) {
                timedOut++;
                keep(e.getKey(), ev, nowNanos, "its owner did not move it within " + config.evictTimeout().toMillis()
                        + " ms");
            }
        }
    }

    /** The slab stays here; it is asked for again after the backoff. Caller holds the monitor. */
    private void keep(SlabKey key, Eviction ev, long nowNanos, String why) {
        if (ev.outstanding) {
            outstandingById.remove(ev.requestId);
            ev.outstanding = false;
        }
        ev.retryAtNanos = nowNanos + ev.backoffNanos;
        LOG.warn("keeping slab {} under memory pressure (free {}, headroom.evictBelow {}): {}; it is never dropped"
                        + " while it may be the last copy; asking again in {} ms ({})", key, mib(freeBytes),
                mib(config.evictBelow().bytes()), why, ev.backoffNanos / 1_000_000, summary());
        ev.backoffNanos = Math.min(MAX_BACKOFF_NANOS, ev.backoffNanos * 2);
    }

    private void reclaim(long nowNanos, long deficit) {
        long need = deficit;
        for (Eviction ev : evictions.values()) {
            if (ev.outstanding) {
                need -= ev.bytes;
            }
        }
        if (need <= 0) {
            return;
        }
        List<Slab> slabs = new ArrayList<>(store.slabs());
        slabs.sort(victimOrder(config.victim()));
        // Unused slabs first: nothing is lost by freeing them, and nobody has to be asked.
        for (Iterator<Slab> it = slabs.iterator(); it.hasNext() && need > 0; ) {
            Slab slab = it.next();
            if (store.freeIfUnused(slab)) {
                it.remove();
                evictions.remove(slab.key());
                unusedReclaimed++;
                need -= slab.sizeBytes();
                LOG.info("freed unused slab {} ({}) under memory pressure; its owner places it again at its next"
                        + " write", slab.key(), mib(slab.sizeBytes()));
            }
        }
        for (Slab slab : slabs) {
            if (need <= 0) {
                break;
            }
            SlabKey key = slab.key();
            Eviction ev = evictions.get(key);
            if (ev != null && (ev.outstanding || ev.retryAtNanos - nowNanos > 0)) {
                continue;
            }
            if (ev == null) {
                ev = new Eviction(slab.sizeBytes(), evictTimeoutNanos);
                evictions.put(key, ev);
            }
            long id = nextRequestId++;
            if (sender.send(key, id, config.evictTimeout().toMillis())) {
                requested++;
                need -= ev.bytes;
                ev.requestId = id;
                ev.outstanding = true;
                ev.deadlineNanos = nowNanos + evictTimeoutNanos;
                outstandingById.put(id, key);
                LOG.info("asked client '{}' to move slab {} ({}): free {} is below headroom.evictBelow {}",
                        key.owner(), key.slabId(), mib(ev.bytes), mib(freeBytes), mib(config.evictBelow().bytes()));
            } else {
                timedOut++;
                keep(key, ev, nowNanos, "its owner '" + key.owner() + "' is not connected");
            }
        }
    }

    /** Victims in the order they are asked for; ties broken by key so the order is stable. */
    static Comparator<Slab> victimOrder(VictimPolicy policy) {
        Comparator<Slab> primary = policy == VictimPolicy.OLDEST
                ? Comparator.comparingLong(Slab::allocatedNanos)
                : Comparator.comparingLong(Slab::lastAccessNanos);
        return primary.thenComparing(s -> s.key().owner()).thenComparingLong(s -> s.key().slabId());
    }

    /** The owner freed {@code key} (FREE_SLAB): if it was evicted, that is the confirmation. */
    public synchronized void onFreed(SlabKey key) {
        Eviction ev = evictions.remove(key);
        if (ev == null) {
            return;
        }
        if (ev.outstanding) {
            outstandingById.remove(ev.requestId);
        }
        completed++;
        LOG.info("client '{}' moved slab {} away and freed it ({} freed; {})", key.owner(), key.slabId(),
                mib(ev.bytes), summary());
    }

    /** Whether this guard sent an EVICT with this id (without the donor-request bit), answered or not. */
    public synchronized boolean isEvictId(long requestId) {
        return requestId > 0 && requestId < nextRequestId;
    }

    /**
     * The owner's answer to EVICT {@code requestId}: {@code reason} null for accepted, else why it keeps it (an
     * ERROR answer passes its code and {@code slabId} -1). A late answer, after the deadline, changes nothing.
     */
    public synchronized void onEvictAnswer(String owner, long requestId, long slabId, ErrorCode reason,
                                           String message, long nowNanos) {
        SlabKey key = outstandingById.get(requestId);
        if (key == null || !key.owner().equals(owner)) {
            LOG.debug("client '{}' answered EVICT {} after its deadline ({})", owner, requestId, reason);
            return;
        }
        if (reason == null && key.slabId() != slabId) {
            LOG.warn("client '{}' answered EVICT {} of slab {} naming slab {}; treating it as declined", owner,
                    requestId, key.slabId(), slabId);
        }
        Eviction ev = evictions.get(key);
        if (reason == null && key.slabId() == slabId) {
            // Accepted; the FREE_SLAB that confirms it came first on the same connection, or it is still coming.
            LOG.debug("client '{}' accepted the eviction of slab {}", owner, key.slabId());
            return;
        }
        declined++;
        keep(key, ev, nowNanos, "client '" + owner + "' declined (" + (reason != null ? reason : "wrong slab")
                + (message.isEmpty() ? "" : ": " + message) + ")");
    }

    public synchronized long evictionsRequested() {
        return requested;
    }

    public synchronized long evictionsCompleted() {
        return completed;
    }

    public synchronized long evictionsTimedOut() {
        return timedOut;
    }

    public synchronized long evictionsDeclined() {
        return declined;
    }

    public synchronized long unusedSlabsReclaimed() {
        return unusedReclaimed;
    }

    /** Used, free, offered and the eviction counters: what every pressure log line ends with. */
    public synchronized String summary() {
        return "used " + mib(store.lentBytes()) + " of " + mib(store.lendLimitBytes()) + ", free " + mib(freeBytes)
                + ", offered " + mib(offeredBytes()) + ", evictions requested " + requested + " completed "
                + completed + " timed out " + timedOut + " declined " + declined + ", unused slabs freed "
                + unusedReclaimed;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : (bytes >> 20) + " MiB";
    }
}
