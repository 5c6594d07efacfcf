package dev.valet.client.engine.placement;

/**
 * What placement knows of one donor when it ranks it, from the donor's latest STATS and the client's own
 * measurements.
 *
 * @param freeMemoryBytes    the donor host's free memory (EWMA of MemAvailable)
 * @param freeMemoryGradient its trend in bytes per second; negative while it shrinks
 * @param offeredBytes       what the donor will still lend; a donor offering less than a slab is not eligible
 * @param pageOpsPerSecond   its current load
 * @param latencyNanos       round-trip time the client measured (heartbeat EWMA)
 */
public record DonorSignals(long freeMemoryBytes, long freeMemoryGradient, long offeredBytes, double pageOpsPerSecond,
                           long latencyNanos) {
}
