/**
 * The placement simulation ({@code valet simulate-placement}, {@code docs/placement.md}): a seeded, in-process
 * model of donors whose hosts take memory back ({@link dev.valet.tools.placement.SimDonor}), on which
 * {@link dev.valet.tools.placement.PlacementSimulation} runs the engine's rank-based policy and the reference
 * policies of {@code dev.valet.client.engine.placement} and compares copies lost and load balance. No network,
 * no memory allocated.
 */
package dev.valet.tools.placement;
