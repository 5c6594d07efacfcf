package dev.valet.client.engine;

import dev.valet.common.protocol.FrameHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The swap space cut into slabs: page number to slab, each slab's copies, and for every page the version and
 * CRC32C of its last write. Those two are what make a read trustworthy: a copy is served only if it returns
 * exactly this version with this checksum, so a replica that missed writes is never taken for current.
 */
public final class SlabMap {
    private final long pageCount;
    private final int pagesPerSlab;
    private final AtomicReferenceArray<SlabEntry> slabs;
    private final long[] versions;
    private final int[] crcs;
    /**
     * The least version the next write of any page gets, minus one: 0 normally; with page encryption, above every
     * version an earlier run of this client can have issued (docs/security.md, "Nonces never repeat"). Set once,
     * before the first write.
     */
    private volatile long versionFloor;

    public SlabMap(long swapBytes, long slabBytes) {
        if (swapBytes % FrameHeader.PAGE_SIZE != 0 || slabBytes % FrameHeader.PAGE_SIZE != 0) {
            throw new IllegalArgumentException("swap space and slab size must be multiples of 4096");
        }
        this.pageCount = swapBytes / FrameHeader.PAGE_SIZE;
        if (pageCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("swap space of " + swapBytes + " bytes exceeds "
                    + (long) Integer.MAX_VALUE * FrameHeader.PAGE_SIZE);
        }
        this.pagesPerSlab = (int) (slabBytes / FrameHeader.PAGE_SIZE);
        this.slabs = new AtomicReferenceArray<>((int) ((pageCount + pagesPerSlab - 1) / pagesPerSlab));
        this.versions = new long[(int) pageCount];
        this.crcs = new int[(int) pageCount];
    }

    public long pageCount() {
        return pageCount;
    }

    public int pagesPerSlab() {
        return pagesPerSlab;
    }

    public long slabBytes() {
        return (long) pagesPerSlab * FrameHeader.PAGE_SIZE;
    }

    public int slabCount() {
        return slabs.length();
    }

    public long slabIndexOf(long page) {
        return page / pagesPerSlab;
    }

    /** The slab holding {@code page}, created (unmapped) on first use. */
    public SlabEntry slabOf(long page) {
        checkPage(page);
        int index = (int) (page / pagesPerSlab);
        SlabEntry s = slabs.get(index);
        if (s == null) {
            long first = (long) index * pagesPerSlab;
            s = new SlabEntry(index, first, (int) Math.min(pagesPerSlab, pageCount - first));
            if (!slabs.compareAndSet(index, null, s)) {
                s = slabs.get(index);
            }
        }
        return s;
    }

    /** The slab with id {@code slabId} (its index in the swap space), or null if the swap space has no such slab. */
    public SlabEntry slabById(long slabId) {
        if (slabId < 0 || slabId >= slabs.length()) {
            return null;
        }
        return slabOf(slabId * pagesPerSlab);
    }

    /** Slabs that have been touched (mapped now or before). */
    public List<SlabEntry> touched() {
        List<SlabEntry> list = new ArrayList<>();
        for (int i = 0; i < slabs.length(); i++) {
            SlabEntry s = slabs.get(i);
            if (s != null) {
                list.add(s);
            }
        }
        return list;
    }

    /** Version of the last write of {@code page}; 0 if never written. Read under the slab's monitor. */
    long version(long page) {
        return versions[(int) page];
    }

    /** Whether any of pages {@code first .. first + count} of {@code slab} (indexes in the slab) was written. */
    boolean anyWritten(SlabEntry slab, int first, int count) {
        synchronized (slab) {
            for (int i = 0; i < count; i++) {
                if (versions[(int) (slab.firstPage() + first + i)] != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    int crc(long page) {
        return crcs[(int) page];
    }

    /** Records a new write of {@code page}; returns its version. Caller holds the slab's monitor. */
    long nextVersion(long page, int crc) {
        int i = (int) page;
        crcs[i] = crc;
        long v = upcomingVersion(page);
        versions[i] = v;
        return v;
    }

    /**
     * The version {@link #nextVersion} will give {@code page} (what a write encrypts under before it knows its
     * checksum). Caller holds the slab's monitor, and keeps it until that {@code nextVersion}.
     */
    long upcomingVersion(long page) {
        return Math.max(versions[(int) page], versionFloor) + 1;
    }

    /**
     * Raises the floor of new versions to {@code floor} (the next write of every page gets a version above it).
     * Call before the first write; never lowers it.
     */
    void raiseVersionFloor(long floor) {
        if (floor > versionFloor) {
            versionFloor = floor;
        }
    }

    long versionFloor() {
        return versionFloor;
    }

    /** The highest version of any page (what recovery found, or was written since). */
    long highestVersion() {
        long max = 0;
        for (long v : versions) {
            max = Math.max(max, v);
        }
        return max;
    }

    /** Sets a page's version and CRC as found on the donors (recovery). Caller holds the slab's monitor. */
    void restore(long page, long version, int crc) {
        versions[(int) page] = version;
        crcs[(int) page] = crc;
    }

    void checkPage(long page) {
        if (page < 0 || page >= pageCount) {
            throw new IllegalArgumentException("page " + page + " outside the swap space (0.." + (pageCount - 1)
                    + ")");
        }
    }
}
