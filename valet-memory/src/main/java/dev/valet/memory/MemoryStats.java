package dev.valet.memory;

/**
 * A snapshot of a {@link RemoteMemory}: its books, its cache, its traffic and the engine's health.
 *
 * @param capacityBytes  the page space ({@code swapSpace}): what all regions together can take at most
 * @param regions        regions allocated and not freed
 * @param regionBytes    bytes those regions asked for
 * @param freeBytes      bytes of pages in no region and no slot page
 * @param largestFree    the largest region of whole pages that fits now, bytes
 * @param slotPages      pages carved into slots for regions of up to 2048 bytes
 * @param cacheHits      pages served from the local cache so far
 * @param cacheMisses    pages the cache was asked for and did not hold (0 with the cache off)
 * @param cachedBytes    bytes in the cache now
 * @param pagesFetched   pages read from the donors so far
 * @param pagesStored    pages written to the donors so far (each once, whatever the copies)
 * @param liveDonors     donors answering now
 * @param donors         donors known (portal.list)
 * @param slabsMapped    slabs with at least one copy
 * @param slabsDegraded  mapped slabs short of copies now (re-replication is at work)
 */
public record MemoryStats(long capacityBytes, long regions, long regionBytes, long freeBytes, long largestFree,
                          long slotPages, long cacheHits, long cacheMisses, long cachedBytes, long pagesFetched,
                          long pagesStored, int liveDonors, int donors, int slabsMapped, int slabsDegraded) {
}
