package dev.valet.tools.placement;

import dev.valet.client.engine.placement.PlacementPolicy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;

/** The state of one {@link PlacementSimulation} run: donors, where each slab's copies are, pending repairs. */
final class SimulationRun {
    private static final long NOISE_BYTES = SimDonor.GIB / 4;

    private record Repair(int dueStep, int slab) {
    }

    private final PlacementSimulation.Params params;
    private final PlacementPolicy<SimDonor> policy;
    private final SplittableRandom scenario;
    private final List<SimDonor> donors = new ArrayList<>();
    private final List<List<SimDonor>> holders = new ArrayList<>();
    private final Queue<Repair> repairs = new ArrayDeque<>();
    private long copiesPlaced;
    private long copiesRefused;
    private long repairsAttempted;
    private long copiesLost;
    private long slabsLost;

    SimulationRun(PlacementSimulation.Params params, PlacementPolicy<SimDonor> policy, long seed) {
        this.params = params;
        this.policy = policy;
        this.scenario = new SplittableRandom(seed);
        for (int i = 0; i < params.donors(); i++) {
            boolean shrinking = scenario.nextDouble() < params.shrinkingFraction();
            donors.add(SimDonor.random(scenario, params.steps(), shrinking));
        }
    }

    PlacementSimulation.Result run() {
        int nextSlab = 0;
        for (int step = 0; step < params.steps(); step++) {
            advanceHosts(step);
            repairDue(step);
            int placedBy = (int) ((long) params.slabs() * (step + 1) / params.steps());
            for (; nextSlab < placedBy; nextSlab++) {
                placeNew(nextSlab);
            }
        }
        return result();
    }

    /** Every host moves along its trend, evicts what no longer fits, and takes its STATS sample. */
    private void advanceHosts(int step) {
        for (SimDonor donor : donors) {
            donor.hostAt(step, scenario.nextLong(-NOISE_BYTES, NOISE_BYTES + 1));
            while (donor.mustEvict()) {
                lose(donor.evictNewest(), donor, step);
            }
            donor.sample();
        }
    }

    private void lose(int slab, SimDonor donor, int step) {
        copiesLost++;
        List<SimDonor> copies = holders.get(slab);
        copies.remove(donor);
        if (copies.isEmpty()) {
            slabsLost++;
        } else {
            repairs.add(new Repair(step + params.repairDelaySteps(), slab));
        }
    }

    /** Re-places evicted copies whose delay is up, unless the slab has meanwhile lost every copy. */
    private void repairDue(int step) {
        while (!repairs.isEmpty() && repairs.peek().dueStep() <= step) {
            int slab = repairs.remove().slab();
            List<SimDonor> copies = holders.get(slab);
            if (copies.isEmpty()) {
                continue;
            }
            repairsAttempted++;
            List<SimDonor> others = new ArrayList<>(donors);
            others.removeAll(copies);
            place(slab, others, 1);
        }
    }

    private void placeNew(int slab) {
        holders.add(new ArrayList<>(params.numReplica()));
        place(slab, donors, params.numReplica());
    }

    private void place(int slab, List<SimDonor> candidates, int copies) {
        List<SimDonor> chosen = policy.choose(candidates, SimDonor::signals, copies, SimDonor.SLAB_BYTES);
        for (SimDonor donor : chosen) {
            donor.hold(slab);
            holders.get(slab).add(donor);
        }
        copiesPlaced += chosen.size();
        copiesRefused += copies - chosen.size();
    }

    private PlacementSimulation.Result result() {
        long held = 0;
        int max = 0;
        for (SimDonor donor : donors) {
            held += donor.slabCount();
            max = Math.max(max, donor.slabCount());
        }
        double mean = (double) held / donors.size();
        double squares = 0;
        for (SimDonor donor : donors) {
            squares += (donor.slabCount() - mean) * (donor.slabCount() - mean);
        }
        return new PlacementSimulation.Result(copiesPlaced, copiesRefused, repairsAttempted, copiesLost, slabsLost,
                held, max, mean, Math.sqrt(squares / donors.size()));
    }
}
