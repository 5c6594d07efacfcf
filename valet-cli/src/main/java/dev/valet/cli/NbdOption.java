package dev.valet.cli;

import dev.valet.common.config.ClientConfig;
import picocli.CommandLine.Option;

/** {@code --nbd}: serve the swap space as an NBD export instead of /dev/valetN ({@code valet client} only). */
@ConfigKeysOf(ClientConfig.class)
final class NbdOption {
    @Option(names = "--nbd", paramLabel = "ENDPOINT",
            description = "Serve the swap space as one NBD export at ENDPOINT (unix:/path, or tcp:127.0.0.1:PORT)"
                    + " instead of /dev/valetN; no kernel module needed (docs/nbd.md).")
    @ConfigKey(value = "nbd.listen", defaultText = "empty: serve /dev/valetN")
    String listen;
}
