package dev.valet.cli;

import dev.valet.tools.placement.PlacementSimulation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code valet simulate-placement}: the placement policies compared in-process, no network. */
@Command(name = "simulate-placement", mixinStandardHelpOptions = true,
        header = "Compare placement policies on a simulated cluster (no network).",
        description = {
            "Compare rank-based placement with random and power-of-two-choices on a simulated cluster (no network):"
                    + " donors whose hosts need memory back evict copies; prints load balance and copies and slabs"
                    + " lost per policy. The model is described in docs/placement.md."})
final class SimulatePlacementCommand implements Runnable {
    @Option(names = "--donors", paramLabel = "N", defaultValue = "1000",
            description = "Simulated donors. Default: ${DEFAULT-VALUE}.")
    int donors;

    @Option(names = "--slabs", paramLabel = "N", defaultValue = "10000",
            description = "Slabs placed (two copies each). Default: ${DEFAULT-VALUE}.")
    int slabs;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Seed of the simulated cluster. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public void run() {
        PlacementSimulation.print(System.out, seed, donors, slabs);
    }
}
