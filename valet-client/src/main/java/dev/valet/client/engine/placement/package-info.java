/**
 * Where a new slab's copies go: the policies ({@link dev.valet.client.engine.placement.DonorRanker}, the seeds'
 * rank-based placement; random and power-of-two choices to compare with), the donor signals they read, and the
 * placement simulator behind {@code valet simulate-placement}. Design: {@code docs/placement.md}.
 */
package dev.valet.client.engine.placement;
