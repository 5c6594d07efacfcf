package dev.valet.donor.store;

import dev.valet.common.posix.AnonymousMemory;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
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
    private final ConcurrentHashMap<SlabKey, Slab> slabs = new ConcurrentHashMap<>();
    private final AtomicLong lentBytes = new AtomicLong();
    /** Keys whose allocation is under way (mapping memory can take a while; the map is not locked meanwhile). */
    private final Set<SlabKey> allocating = ConcurrentHashMap.newKeySet();

    public SlabStore(long lendLimitBytes, long maxSlabBytes, boolean lockMemory) {
        this.lendLimitBytes = lendLimitBytes;
        this.maxSlabBytes = maxSlabBytes;
        this.lockMemory = lockMemory;
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
            long after = lentBytes.addAndGet(bytes);
            if (after > lendLimitBytes) {
                lentBytes.addAndGet(-bytes);
                throw new SlabStoreException(ErrorCode.NO_SPACE, "lending " + bytes + " more bytes would exceed the"
                        + " limit (" + (after - bytes) + " of " + lendLimitBytes + " lent)");
            }
            AnonymousMemory memory;
            try {
                memory = AnonymousMemory.map(Slab.mappedBytes(bytes), lockMemory);
            } catch (OutOfMemoryError e) {
                lentBytes.addAndGet(-bytes);
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
        LOG.debug("freed slab {}; {} bytes lent", slab.key(), lentBytes.get());
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
