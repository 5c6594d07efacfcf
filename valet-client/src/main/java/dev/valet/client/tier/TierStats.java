package dev.valet.client.tier;

/**
 * The host tier's counters, at one instant (docs/host-tier.md, "Counters"). Counts since the tier opened, except
 * the gauges {@code dirty}, {@code clean} and {@code free}.
 *
 * @param slots          pages the tier holds when full
 * @param writes         write requests
 * @param writeWaits     write requests that found no room and waited for a flush to free a slot
 * @param reads          read requests
 * @param hits           pages read from the tier
 * @param misses         pages read from the donors (not in the tier, or still on the way from a read ahead)
 * @param prefetched     pages read ahead into the tier
 * @param prefetchedUsed pages read ahead and then read
 * @param dirty          pages in the tier not yet on the donors (gauge)
 * @param clean          pages in the tier also on the donors (gauge)
 * @param free           slots holding nothing (gauge)
 * @param flushed        pages written from the tier to the donors
 * @param flushFailures  writes to the donors that failed (the page stays dirty and is written again)
 * @param recoveredDirty dirty pages found in the tier's memory at open (written to the donors first)
 * @param backingCalls   flushes and reads ahead as calls to the donors: one per run of consecutive pages
 * @param backingPages   pages those calls carried
 */
public record TierStats(int slots, long writes, long writeWaits, long reads, long hits, long misses, long prefetched,
                        long prefetchedUsed, int dirty, int clean, int free, long flushed, long flushFailures,
                        long recoveredDirty, long backingCalls, long backingPages) {

    /** Pages read from the tier per page read, 0 to 1 (0 before any read). */
    public double hitRate() {
        long pages = hits + misses;
        return pages == 0 ? 0 : (double) hits / pages;
    }
}
