package dev.valet.cli;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.portal.PortalList;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** valet.yaml and the flags that set its keys, shared by every command that is a client (client, status, check). */
@ConfigKeysOf(ClientConfig.class)
final class ClientConfigOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "valet.yaml to read. Without it: ./valet.yaml if there is one, else /etc/valet/valet.yaml if"
                    + " there is one, else the built-in defaults (docs/configuration.md).")
    Path config;

    @Option(names = "--portal", paramLabel = "FILE",
            description = "portal.list naming the donors (first line the count, then HOST:PORT a line).")
    @ConfigKey("portalList")
    Path portal;

    @Option(names = "--identity", paramLabel = "NAME",
            description = "Client identity that owns the slabs on the donors.")
    @ConfigKey(value = "identity", defaultText = "this host's name")
    String identity;

    @Mixin
    TransportOption transport;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "Cluster secret to prove to the donors and demand of them (mode 0600, 32 to 4096 bytes).")
    @ConfigKey("auth.secretFile")
    Path secretFile;

    /**
     * valet.yaml ({@code --config}, else found by {@link ConfigSearch}) with the flags, then {@code more} (a command's
     * own settings), laid over it.
     */
    ClientConfig load(ConfigOverride... more) {
        List<ConfigOverride> overrides = new ArrayList<>(ConfigFlags.given(this, transport));
        overrides.addAll(List.of(more));
        return ConfigFlags.load(ConfigSearch.DEFAULT.find(config, "valet.yaml").orElse(null), ClientConfig.class,
                overrides);
    }

    /** The donors of the configured portal.list. */
    static List<DonorAddress> donors(ClientConfig c) {
        return PortalList.parse(c.portalList());
    }
}
