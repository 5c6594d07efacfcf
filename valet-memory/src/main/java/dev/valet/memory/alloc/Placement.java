package dev.valet.memory.alloc;

/**
 * Where a region lives in the page space: {@code length} bytes from byte {@code address}. A region of at most
 * {@link Allocator#LARGEST_SLOT} bytes has a slot of {@code slotSize} bytes in a page it shares with regions of the
 * same size class; a larger one ({@code slotSize} 0) owns whole pages from {@code address}, which is page-aligned.
 *
 * @param address  byte address of its first byte in the page space
 * @param length   bytes the region was asked for
 * @param slotSize the slot's size (a power of two, 64 to 2048), or 0 for a region of whole pages
 */
public record Placement(long address, long length, int slotSize) {
    /** Bytes in a page of the engine. */
    public static final int PAGE = 4096;

    /** The page of its first byte. */
    public long firstPage() {
        return address / PAGE;
    }

    /** Pages it spans (a slot: its one page). */
    public long pages() {
        return slotSize != 0 ? 1 : (length + PAGE - 1) / PAGE;
    }

    /** Bytes it holds on the donors, its slot's or pages' size (at least {@link #length()}). */
    public long footprint() {
        return slotSize != 0 ? slotSize : pages() * PAGE;
    }

    public boolean isSlot() {
        return slotSize != 0;
    }
}
