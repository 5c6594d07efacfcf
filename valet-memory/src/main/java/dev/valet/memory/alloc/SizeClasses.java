package dev.valet.memory.alloc;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * Slots for small regions: each size class (64, 128, ... 2048 bytes) carves pages of its own into equal slots, a
 * page's used slots a bit each in one {@code long} (a page holds at most 64 slots). A slot is taken from the lowest
 * page of the class that has a free one; a page whose last slot is freed goes back to the free runs. Not
 * thread-safe: {@link Allocator} guards it.
 */
final class SizeClasses {
    static final int SMALLEST = 64;
    static final int CLASSES = 6;

    private final PageExtents extents;
    /** Per class: page to its used-slot bits (absent: not a page of that class). */
    private final List<Map<Long, Long>> used = new ArrayList<>();
    /** Per class: pages with a free slot. */
    private final List<NavigableSet<Long>> partial = new ArrayList<>();
    private long slotPages;

    SizeClasses(PageExtents extents) {
        this.extents = extents;
        for (int c = 0; c < CLASSES; c++) {
            used.add(new HashMap<>());
            partial.add(new TreeSet<>());
        }
    }

    /** The size of the slots a region of {@code bytes} (1 to 2048) takes. */
    static int slotSize(long bytes) {
        int size = SMALLEST;
        while (size < bytes) {
            size <<= 1;
        }
        return size;
    }

    private static int classOf(int slotSize) {
        return Integer.numberOfTrailingZeros(slotSize) - Integer.numberOfTrailingZeros(SMALLEST);
    }

    private static long fullMask(int slotSize) {
        int slots = Placement.PAGE / slotSize;
        return slots == Long.SIZE ? -1L : (1L << slots) - 1;
    }

    /** The byte address of a free slot of {@code slotSize} now taken, or -1 if no page is left for a new one. */
    long take(int slotSize) {
        int c = classOf(slotSize);
        Long page = partial.get(c).isEmpty() ? null : partial.get(c).first();
        if (page == null) {
            long fresh = extents.take(1);
            if (fresh < 0) {
                return -1;
            }
            slotPages++;
            page = fresh;
            used.get(c).put(page, 0L);
            partial.get(c).add(page);
        }
        long bits = used.get(c).get(page);
        int slot = Long.numberOfTrailingZeros(~bits);
        bits |= 1L << slot;
        used.get(c).put(page, bits);
        if (bits == fullMask(slotSize)) {
            partial.get(c).remove(page);
        }
        return page * Placement.PAGE + (long) slot * slotSize;
    }

    /**
     * The slot at {@code address} is free again.
     *
     * @throws IllegalStateException if it is not a used slot of that size (freed twice)
     */
    void give(long address, int slotSize) {
        int c = classOf(slotSize);
        long page = address / Placement.PAGE;
        int slot = (int) (address % Placement.PAGE) / slotSize;
        Long bits = used.get(c).get(page);
        if (bits == null || (bits & (1L << slot)) == 0) {
            throw new IllegalStateException("slot " + slot + " of " + slotSize + " bytes in page " + page
                    + " is not in use");
        }
        long left = bits & ~(1L << slot);
        if (left == 0) {
            used.get(c).remove(page);
            partial.get(c).remove(page);
            slotPages--;
            extents.give(page, 1);
        } else {
            used.get(c).put(page, left);
            partial.get(c).add(page);
        }
    }

    /** Pages carved into slots now. */
    long slotPages() {
        return slotPages;
    }
}
