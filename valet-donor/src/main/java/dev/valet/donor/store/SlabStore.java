package dev.valet.donor.store;

import dev.valet.common.config.LimitsConfig;
import dev.valet.common.posix.AnonymousMemory;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory a donor lends: slabs keyed by (owner, slab id), allocated on demand as off-heap mappings and unmapped
 * on free, never more in total than the lending limit. Ownership is structural: every lookup names the owner, so
 * one client identity cannot even name another's slab.
 */
public final class SlabStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlabStore.class);

    private final long lendLimitBytes;
    private final long maxSlabBytes;
    private final boolean lockMemory;
    private final int maxSlabsPerOwner;
    private final ConcurrentHashMap<SlabKey, Slab> slabs = new ConcurrentHashMap<>();
    /** Slabs each owner holds or is allocating, for {@code maxSlabsPerOwner}. */
    private final ConcurrentHashMap<String, Integer> slabsPerOwner = new ConcurrentHashMap<>();
    private final AtomicLong lentBytes = new AtomicLong();
    /** Keys whose allocation is under way (mapping memory can take a while; the map is not locked meanwhile). */
    private final Set<SlabKey> allocating = ConcurrentHashMap.newKeySet();

    /** A store with the default {@code limits.maxSlabsPerClient}. */
    public SlabStore(long lendLimitBytes, long maxSlabBytes, boolean lockMemory) {
        this(lendLimitBytes, maxSlabBytes, lockMemory, LimitsConfig.DEFAULTS.maxSlabsPerClient());
    }

    /** @param maxSlabsPerOwner the most slabs one owner may hold at once ({@code TOO_MANY_SLABS} beyond) */
    public SlabStore(long lendLimitBytes, long maxSlabBytes, boolean lockMemory, int maxSlabsPerOwner) {
        this.lendLimitBytes = lendLimitBytes;
        this.maxSlabBytes = maxSlabBytes;
        this.lockMemory = lockMemory;
        this.maxSlabsPerOwner = maxSlabsPerOwner;
    }

    /** Lends a new zero-filled slab of {@code bytes} to {@code owner} under {@code slabId}. */
    public Slab allocate(String owner, long slabId, long bytes) throws SlabStoreException {
        if (bytes <= 0 || bytes % FrameHeader.PAGE_SIZE != 0 || bytes > maxSlabBytes) {
            throw new SlabStoreException(ErrorCode.BAD_FRAME, "slab size " + bytes + " must be a multiple of "
                    + FrameHeader.PAGE_SIZE + " in " + FrameHeader.PAGE_SIZE + ".." + maxSlabBytes);
        }
        SlabKey key = new SlabKey(owner, slabId);
        // Claim the key first, so a racing allocation of the same slab is told SLAB_EXISTS, not NO_SPACE, and
        // never reserves bytes it will give back.
        if (!allocating.add(key)) {
            throw new SlabStoreException(ErrorCode.SLAB_EXISTS, "slab " + slabId + " is being allocated");
        }
        Slab slab;
        try {
            if (slabs.containsKey(key)) {
                throw new SlabStoreException(ErrorCode.SLAB_EXISTS, "slab " + slabId + " already exists");
            }
            countSlabOf(owner);
            long after = lentBytes.addAndGet(bytes);
            if (after > lendLimitBytes) {
                lentBytes.addAndGet(-bytes);
                uncountSlabOf(owner);
                throw new SlabStoreException(ErrorCode.NO_SPACE, "lending " + bytes + " more bytes would exceed the"
                        + " limit (" + (after - bytes) + " of " + lendLimitBytes + " lent)");
            }
            AnonymousMemory memory;
            try {
                memory = AnonymousMemory.map(Slab.mappedBytes(bytes), lockMemory);
            } catch (OutOfMemoryError e) {
                lentBytes.addAndGet(-bytes);
                uncountSlabOf(owner);
                throw new SlabStoreException(ErrorCode.NO_SPACE, e.getMessage());
            }
            slab = new Slab(key, memory, bytes);
            slabs.put(key, slab);
        } finally {
            allocating.remove(key);
        }
        LOG.debug("lent slab {} ({} bytes); {} of {} bytes lent", key, bytes, lentBytes.get(), lendLimitBytes);
        return slab;
    }

    private void countSlabOf(String owner) throws SlabStoreException {
        boolean[] counted = {false};
        slabsPerOwner.compute(owner, (k, n) -> {
            int held = n == null ? 0 : n;
            if (held >= maxSlabsPerOwner) {
                return n;
            }
            counted[0] = true;
            return held + 1;
        });
        if (!counted[0]) {
            throw new SlabStoreException(ErrorCode.TOO_MANY_SLABS, "client '" + owner + "' already holds "
                    + maxSlabsPerOwner + " slabs here, the most one client may (limits.maxSlabsPerClient)");
        }
    }

    private void uncountSlabOf(String owner) {
        slabsPerOwner.computeIfPresent(owner, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** The owner's slab, or {@code null}. */
    public Slab find(String owner, long slabId) {
        return slabs.get(new SlabKey(owner, slabId));
    }

    /** Frees the owner's slab; false when it has none by that id. */
    public boolean free(String owner, long slabId) {
        Slab slab = slabs.remove(new SlabKey(owner, slabId));
        if (slab == null) {
            return false;
        }
        slab.release();
        lentBytes.addAndGet(-slab.sizeBytes());
        uncountSlabOf(owner);
        LOG.debug("freed slab {}; {} bytes lent", slab.key(), lentBytes.get());
        return true;
    }

    /**
     * Frees {@code slab} if no page of it was ever written (checked and freed under the slab's lock, so a write
     * racing with this either lands first, and the slab is kept, or finds the slab gone: {@code NO_SUCH_SLAB}).
     *
     * @return whether it was freed
     */
    public boolean freeIfUnused(Slab slab) {
        synchronized (slab.lock()) {
            if (slab.isFreed() || slab.hasWrittenPage() || !slabs.remove(slab.key(), slab)) {
                return false;
            }
            slab.release();
        }
        lentBytes.addAndGet(-slab.sizeBytes());
        LOG.debug("freed unused slab {}; {} bytes lent", slab.key(), lentBytes.get());
        return true;
    }

    /** The slabs {@code owner} has here now, by slab id. */
    public List<Slab> slabsOf(String owner) {
        List<Slab> own = new ArrayList<>();
        for (Slab s : slabs.values()) {
            if (s.key().owner().equals(owner)) {
                own.add(s);
            }
        }
        own.sort(Comparator.comparingLong(s -> s.key().slabId()));
        return own;
    }

    /** What each owner holds right now (slabs and bytes), by owner: for CLIENT_SHARES and the metrics. */
    public List<ClientShares.Share> holdings() {
        Map<String, long[]> perOwner = new TreeMap<>();
        for (Slab s : slabs.values()) {
            long[] v = perOwner.computeIfAbsent(s.key().owner(), k -> new long[2]);
            v[0]++;
            v[1] += s.sizeBytes();
        }
        List<ClientShares.Share> out = new ArrayList<>(perOwner.size());
        perOwner.forEach((owner, v) -> out.add(new ClientShares.Share(owner, (int) v[0], v[1])));
        return out;
    }

    /** The slabs lent right now (a snapshot). */
    public List<Slab> slabs() {
        return List.copyOf(slabs.values());
    }

    public long lendLimitBytes() {
        return lendLimitBytes;
    }

    public long lentBytes() {
        return lentBytes.get();
    }

    public int slabCount() {
        return slabs.size();
    }

    @Override
    public void close() {
        for (Slab slab : slabs()) {
            free(slab.key().owner(), slab.key().slabId());
        }
    }
}
