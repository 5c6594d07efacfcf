package dev.valet.cli;

import dev.valet.common.config.TransportChoice;
import picocli.CommandLine.Option;

/**
 * The flags shared by the commands that spawn their own donors (demo, bench): where they listen, what carries pages.
 */
final class SpawnedDonorOptions {
    @Option(names = "--donor-host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address of this machine the spawned donors listen on. RDMA over Soft-RoCE needs the rxe"
                    + " device's address (rdma_cm does not route 127.0.0.1). Default: ${DEFAULT-VALUE}.")
    String donorHost;

    @Option(names = "--transport", paramLabel = "KIND", defaultValue = "auto",
            description = "What carries pages to the donors: rdma, tcp or auto (RDMA to donors that accept it when"
                    + " this host has an RDMA device, else TCP). Default: ${DEFAULT-VALUE}.")
    String transport;

    /** The parsed {@code --transport}; IllegalArgumentException naming the choices on a bad word. */
    TransportChoice transport() {
        return TransportChoice.parse(transport);
    }
}
