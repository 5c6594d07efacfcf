package dev.valet.memory.pages;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Which 64-byte granules of each page hold data a region wrote: one {@code long} per page, a bit per granule. A
 * granule whose bit is clear reads as zeros whatever the page holds on the donors (a freed region's leftovers, an
 * earlier program's pages), so a new region reads as zeros without anyone clearing it, and a page with no bit set is
 * not read from the donors at all. The words live in chunks made at first use, so a large, mostly unused space
 * costs little. A page's word is read under its {@link PageLocks} stripe and changed under it exclusively.
 */
final class GranuleMasks {
    static final int GRANULE = 64;
    private static final int CHUNK_SHIFT = 14;
    private static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;

    private final AtomicReferenceArray<long[]> chunks;

    GranuleMasks(long pageCount) {
        this.chunks = new AtomicReferenceArray<>((int) ((pageCount + CHUNK_PAGES - 1) >>> CHUNK_SHIFT));
    }

    /** The bits of the granules that bytes {@code from .. from + length} of a page touch. */
    static long bits(int from, int length) {
        int first = from / GRANULE;
        int last = (from + length - 1) / GRANULE;
        int n = last - first + 1;
        return (n == Long.SIZE ? -1L : (1L << n) - 1) << first;
    }

    long get(long page) {
        long[] chunk = chunks.get((int) (page >>> CHUNK_SHIFT));
        return chunk == null ? 0 : chunk[(int) (page & (CHUNK_PAGES - 1))];
    }

    void set(long page, long bits) {
        int c = (int) (page >>> CHUNK_SHIFT);
        long[] chunk = chunks.get(c);
        if (chunk == null) {
            chunks.compareAndSet(c, null, new long[CHUNK_PAGES]);
            chunk = chunks.get(c);
        }
        chunk[(int) (page & (CHUNK_PAGES - 1))] |= bits;
    }

    void clear(long page, long bits) {
        long[] chunk = chunks.get((int) (page >>> CHUNK_SHIFT));
        if (chunk != null) {
            chunk[(int) (page & (CHUNK_PAGES - 1))] &= ~bits;
        }
    }
}
