package dev.valet.client.dashboard;

import dev.valet.client.engine.EngineStats;

/**
 * What the control socket answers to {@code status} ({@code valet status --client}): the dashboard's document and
 * the engine's counters.
 *
 * @param view          donors, slabs with their copies, throughput, events
 * @param engine        the engine's health: slabs mapped, degraded, without copy; repair, migration, held requests
 * @param repairQueue   slabs waiting for re-replication or migration now
 * @param numReplica    copies each slab should have
 */
public record ClientStatus(DashboardState view, EngineStats engine, int repairQueue, int numReplica) {
}
