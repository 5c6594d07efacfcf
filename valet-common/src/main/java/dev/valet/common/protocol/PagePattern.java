package dev.valet.common.protocol;

/**
 * The content a checking workload writes to a page: a pseudo-random stream (SplitMix64) seeded by
 * (seed, slab, page, version), so every page and every version of it differs, and a reader can regenerate what it
 * must find without keeping a copy.
 */
public final class PagePattern {
    private PagePattern() {
    }

    /** Fills {@code page[0 .. 4096)} with the content of (slab, page, version) under {@code seed}. */
    public static void fill(byte[] page, long seed, long slabId, long pageIndex, long version) {
        long x = mix(seed ^ mix(slabId * 0x9E3779B97F4A7C15L ^ mix(pageIndex + 0x632BE59BD9B4E019L)
                ^ mix(version + 0x85157AF5L)));
        for (int off = 0; off < FrameHeader.PAGE_SIZE; off += 8) {
            x += 0x9E3779B97F4A7C15L;
            long v = mix(x);
            page[off] = (byte) v;
            page[off + 1] = (byte) (v >>> 8);
            page[off + 2] = (byte) (v >>> 16);
            page[off + 3] = (byte) (v >>> 24);
            page[off + 4] = (byte) (v >>> 32);
            page[off + 5] = (byte) (v >>> 40);
            page[off + 6] = (byte) (v >>> 48);
            page[off + 7] = (byte) (v >>> 56);
        }
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
