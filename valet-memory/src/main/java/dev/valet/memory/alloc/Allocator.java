package dev.valet.memory.alloc;

/**
 * Places regions in a page space of {@code pageCount} pages: a region of up to {@value #LARGEST_SLOT} bytes in a
 * slot of its size class ({@link SizeClasses}: small objects packed, many to a page), a larger one in a run of whole
 * pages of its own ({@link PageExtents}, best fit), which may span slabs. Thread-safe; every call is short (no I/O).
 * Whatever a freed region held is the caller's to clear: the allocator only keeps the books.
 */
public final class Allocator {
    /** Largest region packed into a shared page; larger ones take whole pages. */
    public static final int LARGEST_SLOT = 2048;

    private final long pageCount;
    private final PageExtents extents;
    private final SizeClasses slots;
    private long regions;
    private long bytes;

    public Allocator(long pageCount) {
        this.pageCount = pageCount;
        this.extents = new PageExtents(pageCount);
        this.slots = new SizeClasses(extents);
    }

    /**
     * Places a region of {@code length} bytes; null when the space has no room for it (too few free pages, or no run
     * of free pages long enough).
     *
     * @throws IllegalArgumentException if {@code length} is not positive
     */
    public synchronized Placement allocate(long length) {
        if (length < 1) {
            throw new IllegalArgumentException("a region needs at least 1 byte, not " + length);
        }
        Placement p;
        if (length <= LARGEST_SLOT) {
            int size = SizeClasses.slotSize(length);
            long address = slots.take(size);
            p = address < 0 ? null : new Placement(address, length, size);
        } else {
            long pages = (length + Placement.PAGE - 1) / Placement.PAGE;
            long first = extents.take(pages);
            p = first < 0 ? null : new Placement(first * Placement.PAGE, length, 0);
        }
        if (p != null) {
            regions++;
            bytes += p.length();
        }
        return p;
    }

    /**
     * The region at {@code p} is gone; its slot or pages may be placed again.
     *
     * @throws IllegalStateException if it was freed already
     */
    public synchronized void free(Placement p) {
        if (p.isSlot()) {
            slots.give(p.address(), p.slotSize());
        } else {
            extents.give(p.firstPage(), p.pages());
        }
        regions--;
        bytes -= p.length();
    }

    public long pageCount() {
        return pageCount;
    }

    /** Regions placed now. */
    public synchronized long regions() {
        return regions;
    }

    /** Bytes the regions placed now asked for. */
    public synchronized long bytes() {
        return bytes;
    }

    /** Pages neither in a region nor carved into slots. */
    public synchronized long freePages() {
        return extents.freePages();
    }

    /** The longest run of free pages: the largest region of whole pages that fits now is this many pages. */
    public synchronized long longestFreeRun() {
        return extents.longestRun();
    }

    /** Pages carved into slots for small regions now. */
    public synchronized long slotPages() {
        return slots.slotPages();
    }
}
