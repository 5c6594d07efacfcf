package dev.valet.cli;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.TransportChoice;
import picocli.CommandLine.Option;

/** {@code --transport}: what carries pages from this client to the donors (client, status, check, demo, bench). */
@ConfigKeysOf(ClientConfig.class)
final class TransportOption {
    @Option(names = "--transport", paramLabel = "KIND", converter = Converters.Transport.class,
            description = "What carries pages to donors: rdma, tcp or auto (RDMA to donors that accept it when this"
                    + " host has an RDMA device, else TCP).")
    @ConfigKey("transport")
    TransportChoice transport;

    /** The transport given, or valet.yaml's default when none was. */
    TransportChoice orDefault() {
        return transport != null ? transport : ClientConfig.defaults().transport();
    }
}
