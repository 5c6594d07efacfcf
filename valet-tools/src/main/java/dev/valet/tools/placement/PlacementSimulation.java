package dev.valet.tools.placement;

import dev.valet.client.engine.placement.DonorRanker;
import dev.valet.client.engine.placement.PlacementPolicy;
import dev.valet.client.engine.placement.PowerOfTwoChoices;
import dev.valet.client.engine.placement.RandomPlacement;
import dev.valet.common.config.RankWeights;

import java.io.PrintStream;
import java.util.SplittableRandom;

/**
 * A seeded, in-process comparison of placement policies (no network, no real memory), to check that rank-based
 * placement earns its complexity over random and power-of-two choices.
 *
 * <p>Scenario. {@code donors} hosts lend 16..256 GiB each (uniform); free memory starts at that capacity. A fraction
 * ({@code shrinkingFraction}, default 20%) run a host workload that starts at a random time and then takes
 * 0.05..0.5 GiB more every second; the rest hold steady or grow by up to 0.02 GiB/s. Free memory also jitters by
 * ±0.25 GiB per sample. One step is one second, one STATS sample: each donor takes the EWMA (weight 0.7) of its free
 * memory and the gradient over the last 8 samples, as the real donor does. A donor lends only above an 8 GiB
 * headroom; when its free memory falls below it, it evicts its most recently placed slab copies until it is back
 * above (or holds none). {@code slabs} slabs of 1 GiB arrive evenly over {@code steps} steps, {@code numReplica}
 * copies each on distinct donors. An evicted copy is re-placed by the same policy (on a donor not holding the slab)
 * {@code repairDelaySteps} later; a slab whose copies are all evicted before that is lost. Load is 250 page ops/s
 * per slab copy held; latency is a per-donor constant of 5..50 µs plus 1 ns per page op/s.
 *
 * <p>Limits. Host workloads are straight lines plus noise; no donor crashes, leaves or restarts; slabs are never
 * freed; the client sees free memory one sample late but load, latency and offers at once; repairs are instant once
 * due and never retried when refused; a refused copy is not retried either. The numbers compare policies under one
 * set of assumptions, they do not predict a cluster.
 */
public final class PlacementSimulation {
    private PlacementSimulation() {
    }

    /**
     * @param donors            donor hosts
     * @param slabs             slabs placed over the run
     * @param numReplica        copies per slab
     * @param steps             simulated seconds; slabs arrive evenly over them
     * @param shrinkingFraction share of donors whose host workload grows
     * @param repairDelaySteps  steps between an eviction and the re-placement of that copy
     */
    public record Params(int donors, int slabs, int numReplica, int steps, double shrinkingFraction,
                         int repairDelaySteps) {
        public Params {
            if (donors < 1 || slabs < 0 || numReplica < 1 || steps < 1 || repairDelaySteps < 0
                    || !(shrinkingFraction >= 0 && shrinkingFraction <= 1)) {
                throw new IllegalArgumentException("bad simulation parameters: " + this);
            }
        }

        /** The default scenario: 2 copies, 600 steps, 20% shrinking donors, repair after 2 steps. */
        public static Params defaults(int donors, int slabs) {
            return new Params(donors, slabs, 2, 600, 0.2, 2);
        }
    }

    /**
     * What a run did. Placements count initial copies and repairs alike, so
     * {@code copiesPlaced + copiesRefused = slabs × numReplica + repairsAttempted} and
     * {@code copiesHeld = copiesPlaced − copiesLost}.
     *
     * @param copiesPlaced        copies placed, initial and repairs
     * @param copiesRefused       copies no eligible donor could take, initial and repairs
     * @param repairsAttempted    evicted copies the run tried to re-place
     * @param copiesLost          copies evicted by their donor
     * @param slabsLost           slabs whose every copy was evicted before a repair restored one
     * @param copiesHeld          copies on donors at the end
     * @param maxSlabsPerDonor    most copies on one donor at the end
     * @param meanSlabsPerDonor   copies per donor at the end, mean
     * @param stddevSlabsPerDonor copies per donor at the end, population standard deviation
     */
    public record Result(long copiesPlaced, long copiesRefused, long repairsAttempted, long copiesLost,
                         long slabsLost, long copiesHeld, int maxSlabsPerDonor, double meanSlabsPerDonor,
                         double stddevSlabsPerDonor) {
        /** How much fuller the fullest donor is than the average one; 1 is perfectly even. */
        public double maxToMean() {
            return meanSlabsPerDonor == 0 ? 0 : maxSlabsPerDonor / meanSlabsPerDonor;
        }
    }

    /** Runs {@code policy} on the scenario of {@code seed}; the same seed gives every policy the same hosts. */
    public static Result run(Params p, PlacementPolicy<SimDonor> policy, long seed) {
        return new SimulationRun(p, policy, seed).run();
    }

    /**
     * Runs rank-based (default weights, serverSelectNum 4), random and power-of-two placement on the default scenario
     * of {@code seed} and prints one row per policy.
     */
    public static void print(PrintStream out, long seed, int donors, int slabs) {
        Params p = Params.defaults(donors, slabs);
        out.printf("placement simulation: %d donors, %d slabs x %d copies over %d steps, %.0f%% shrinking, seed %d%n",
                donors, slabs, p.numReplica(), p.steps(), p.shrinkingFraction() * 100, seed);
        out.printf("%-13s %10s %11s %9s %7s %12s %11s %8s%n", "policy", "max/donor", "mean/donor", "max/mean",
                "stddev", "copies lost", "slabs lost", "refused");
        row(out, "rank-based", run(p, new DonorRanker<>(4, RankWeights.DEFAULTS, policyRandom(seed)), seed));
        row(out, "random", run(p, new RandomPlacement<>(policyRandom(seed)), seed));
        row(out, "power-of-two", run(p, new PowerOfTwoChoices<>(policyRandom(seed)), seed));
    }

    private static SplittableRandom policyRandom(long seed) {
        return new SplittableRandom(seed).split();
    }

    private static void row(PrintStream out, String policy, Result r) {
        out.printf("%-13s %10d %11.2f %9.2f %7.2f %12d %11d %8d%n", policy, r.maxSlabsPerDonor(),
                r.meanSlabsPerDonor(), r.maxToMean(), r.stddevSlabsPerDonor(), r.copiesLost(), r.slabsLost(),
                r.copiesRefused());
    }

    /** Arguments: [seed [donors [slabs]]], default 1, 1000 donors, 10000 slabs. */
    public static void main(String[] args) {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int donors = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int slabs = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        print(System.out, seed, donors, slabs);
    }
}
