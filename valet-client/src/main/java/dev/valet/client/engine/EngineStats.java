package dev.valet.client.engine;

/**
 * A snapshot of the engine's health.
 *
 * @param liveDonors        donors answering now
 * @param donors            donors in portal.list
 * @param slabsMapped       slabs with at least one copy
 * @param slabsDegraded     mapped slabs with fewer copies than {@code numReplica}
 * @param slabsWithoutCopy  touched slabs with no copy at all (readable only from a backup disk)
 * @param slabsRepaired     new copies completed by re-replication so far
 * @param pagesCopied       pages copied by re-replication so far
 * @param slabsMigrated     slabs moved off (or dropped from) donors that evicted them, so far
 * @param evictionsDeclined EVICTs declined so far (nowhere to put the slab, or moving it failed)
 * @param suspectedDonors   donors silent or disconnected now, whose copies are kept until they answer again
 * @param heldRequests      requests held so far because no copy could be reached (each counted once)
 * @param heldMaxMillis     the longest any request was held, in milliseconds
 * @param heldFailed        held requests that failed when {@code device.holdTimeout} ran out
 */
public record EngineStats(int liveDonors, int donors, int slabsMapped, int slabsDegraded, int slabsWithoutCopy,
                          long slabsRepaired, long pagesCopied, long slabsMigrated, long evictionsDeclined,
                          int suspectedDonors, long heldRequests, long heldMaxMillis, long heldFailed) {
    /** Every mapped slab has all its copies and none is without one. */
    public boolean fullyReplicated() {
        return slabsDegraded == 0 && slabsWithoutCopy == 0;
    }
}
