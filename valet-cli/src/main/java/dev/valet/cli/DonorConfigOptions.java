package dev.valet.cli;

import dev.valet.common.config.ByteSize;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.config.TransportChoice;
import dev.valet.common.portal.DonorAddress;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** donor.yaml and the flags of {@code valet donor} that set its keys. */
@ConfigKeysOf(DonorConfig.class)
final class DonorConfigOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "donor.yaml to read. Without it: ./donor.yaml if there is one, else /etc/valet/donor.yaml if"
                    + " there is one, else the built-in defaults (docs/configuration.md).")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", converter = Converters.ListenAddress.class,
            description = "Address to listen on, e.g. 0.0.0.0:7070 or [::1]:7070; port 0 picks a free port.")
    @ConfigKey("listen")
    DonorAddress listen;

    @Option(names = "--memory", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Most memory to lend, e.g. 512M or 8G.")
    @ConfigKey("memory")
    ByteSize memory;

    @Option(names = "--max-slab", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Largest slab a client may allocate (4K..1G, multiple of 4K).")
    @ConfigKey("maxSlabBytes")
    ByteSize maxSlab;

    @Option(names = "--max-frame", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Largest wire frame accepted (64K..64M).")
    @ConfigKey("maxFrameBytes")
    ByteSize maxFrame;

    @Option(names = "--lock-memory", negatable = true,
            description = "mlock lent slabs so the donor never swaps a client's pages (--no-lock-memory to turn off).")
    @ConfigKey("lockMemory")
    Boolean lockMemory;

    @Option(names = "--transport", paramLabel = "KIND", converter = Converters.Transport.class,
            description = "tcp: serve TCP only; rdma: also serve RDMA (rdma_cm on the same address and port) or"
                    + " fail to start; auto: also serve RDMA when this host has an RDMA device.")
    @ConfigKey("transport")
    TransportChoice transport;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "Cluster secret every client must prove (HMAC handshake): a file of 32 to 4096 random"
                    + " bytes, mode 0600.")
    @ConfigKey("auth.secretFile")
    Path secretFile;

    @Option(names = "--allow-unauthenticated",
            description = "Without a secret, listen on a non-loopback address anyway, serving any client that"
                    + " can reach it.")
    @ConfigKey("auth.allowUnauthenticated")
    Boolean allowUnauthenticated;

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics, read-only; a loopback address"
                    + " unless metrics.allowRemote is set (docs/operations.md).")
    @ConfigKey(value = "metrics.listen", defaultText = "empty: off")
    String metricsListen;

    /** donor.yaml ({@code --config}, else found by {@link ConfigSearch}) with the flags laid over it. */
    DonorConfig load() {
        return ConfigFlags.load(ConfigSearch.DEFAULT.find(config, "donor.yaml").orElse(null), DonorConfig.class,
                ConfigFlags.given(this));
    }
}
