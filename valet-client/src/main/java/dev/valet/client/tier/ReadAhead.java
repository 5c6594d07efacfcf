package dev.valet.client.tier;

/**
 * Reads ahead into the tier: after each swap-in, the {@link TrendDetector}'s predicted pages that are neither in
 * the tier nor on the way get a free (or clean) slot each and are read from the donors as clean pages. Never more
 * than {@code maxPages} reads ahead at once, never a dirty slot, never while writers wait for room. A write of a
 * page while its read is on the way wins: what the read brings is dropped ({@link SlotTable#filled}). Not thread
 * safe: callers hold the tier's lock.
 */
final class ReadAhead {
    /** Interleaved streams looked for beyond Leap's single one (TrendDetector). */
    static final int MAX_STREAMS = 4;

    private final SlotTable slots;
    private final TrendDetector detector;
    private final long pageCount;
    private final int maxInFlight;
    private final boolean enabled;
    private int inFlight;
    long prefetched;
    long used;

    ReadAhead(SlotTable slots, long pageCount, boolean enabled, int window, int maxPages) {
        this.slots = slots;
        this.detector = new TrendDetector(window, maxPages, MAX_STREAMS);
        this.pageCount = pageCount;
        this.maxInFlight = maxPages;
        this.enabled = enabled;
    }

    /**
     * Records a swap-in and reserves slots for the pages to read ahead, nearest first, linked through
     * {@link SlotTable#next}.
     *
     * @param foreseen some of its pages were read ahead (in the tier or on the way)
     * @param missed   some of its pages were neither
     * @param room     whether slots may be taken (no writer waits for one)
     * @return the first reserved slot, or {@link SlotTable#NONE}
     */
    int plan(long firstPage, int count, boolean foreseen, boolean missed, boolean room) {
        if (!enabled) {
            return SlotTable.NONE;
        }
        int pages = detector.record(firstPage, count, foreseen, missed);
        int head = SlotTable.NONE;
        int tail = SlotTable.NONE;
        for (int i = 0; i < pages && room && inFlight < maxInFlight; i++) {
            long page = detector.predicted(i);
            if (page < 0 || page >= pageCount || slots.newest(page) != SlotTable.NONE || slots.isFilling(page)) {
                continue;
            }
            int slot = slots.take();
            if (slot == SlotTable.NONE) {
                break;
            }
            slots.startFill(slot, page);
            slots.next[slot] = SlotTable.NONE;
            if (tail == SlotTable.NONE) {
                head = slot;
            } else {
                slots.next[tail] = slot;
            }
            tail = slot;
            inFlight++;
            prefetched++;
        }
        return head;
    }

    /** A read ahead into {@code slot} ended; the slot is the page's clean copy if it succeeded and still counts. */
    void filled(int slot, boolean ok) {
        inFlight--;
        slots.filled(slot, ok);
    }

    /** A swap-in found {@code slot}'s page in the tier: counts a read-ahead page's first use. */
    void hit(int slot) {
        slots.referenced[slot] = true;
        if (slots.unusedPrefetch[slot]) {
            slots.unusedPrefetch[slot] = false;
            used++;
        }
    }
}
