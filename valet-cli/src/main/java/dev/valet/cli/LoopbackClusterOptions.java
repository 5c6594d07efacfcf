package dev.valet.cli;

import dev.valet.common.config.ByteSize;
import picocli.CommandLine.Option;

import java.io.IOException;

/**
 * The donors a command starts on this machine for itself (demo, bench, check): how many, what each lends, where they
 * listen, and the slab size and seed of the pages the command writes to them. Each command gives its own defaults
 * through the constructor; picocli shows them as the defaults.
 */
final class LoopbackClusterOptions {
    @Option(names = {"--donors", "--spawn-donors"}, paramLabel = "N",
            description = "Donor processes to start on this machine (free ports), each lending --donor-memory; they"
                    + " are stopped at the end. Default: ${DEFAULT-VALUE}.")
    int donors;

    @Option(names = "--donor-memory", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Memory each started donor lends. Default: ${DEFAULT-VALUE}.")
    ByteSize donorMemory;

    @Option(names = "--lock-memory", negatable = true,
            description = "Let the started donors lock their memory (mlock). Off by default: donors on the same"
                    + " machine as the client would only pin it twice. Default: ${DEFAULT-VALUE}.")
    boolean lockMemory;

    @Option(names = "--donor-host", paramLabel = "ADDR",
            description = "Address of this machine the started donors listen on. RDMA over Soft-RoCE needs the rxe"
                    + " device's address (rdma_cm does not route 127.0.0.1). Default: ${DEFAULT-VALUE}.")
    String donorHost = "127.0.0.1";

    @Option(names = "--slab-size", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Slab size, a multiple of 4K, at most the donors' maxSlabBytes (demo and bench: the engine's"
                    + " slabSize). Default: ${DEFAULT-VALUE}.")
    ByteSize slabSize;

    @Option(names = "--seed", paramLabel = "N",
            description = "Seed of the page contents (bench: and of its random pages). Default: ${DEFAULT-VALUE}.")
    long seed;

    /** A command's defaults: donors to start, what each lends, slab size, seed. */
    LoopbackClusterOptions(int donors, String donorMemory, String slabSize, long seed) {
        this.donors = donors;
        this.donorMemory = ByteSize.parse(donorMemory);
        this.slabSize = ByteSize.parse(slabSize);
        this.seed = seed;
    }

    /**
     * Starts the donors; with {@code memoryHook}, they read their free memory from files the command controls
     * ({@link LoopbackDonors#runShortOfMemory}).
     */
    LoopbackDonors start(String purpose, boolean memoryHook) throws IOException {
        return LoopbackDonors.start(purpose, donors, donorMemory, lockMemory, donorHost, memoryHook);
    }
}
