package dev.valet.cli;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.portal.PortalList;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The client-side options every client command shares: valet.yaml and the flags that override it. */
final class ClientOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "valet.yaml to read (default: none; built-in defaults, see docs/configuration.md).")
    Path config;

    @Option(names = "--portal", paramLabel = "FILE",
            description = "portal.list naming the donors (first line the count, then HOST:PORT a line)."
                    + " YAML key: portalList (default portal.list).")
    Path portal;

    @Option(names = "--identity", paramLabel = "NAME",
            description = "Client identity that owns the slabs on the donors."
                    + " YAML key: identity (default: this host's name).")
    String identity;

    @Option(names = "--transport", paramLabel = "KIND",
            description = "What carries pages to donors: rdma, tcp or auto (RDMA to donors that accept it when this "
                    + "host has an RDMA device, else TCP). YAML key: transport (default auto).")
    String transport;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "Cluster secret to prove to the donors and demand of them (mode 0600, 32 to 4096"
                    + " bytes). YAML key: auth.secretFile (default none).")
    Path secretFile;

    /** valet.yaml (if given) with the flags applied over it, validated. */
    ClientConfig load() {
        List<ConfigOverride> flags = new ArrayList<>();
        if (portal != null) {
            flags.add(new ConfigOverride("portalList", portal, "--portal"));
        }
        if (identity != null) {
            flags.add(new ConfigOverride("identity", identity, "--identity"));
        }
        if (transport != null) {
            flags.add(new ConfigOverride("transport", transport, "--transport"));
        }
        if (secretFile != null) {
            flags.add(new ConfigOverride("auth.secretFile", secretFile, "--secret-file"));
        }
        return config != null ? ConfigLoader.load(config, ClientConfig.class, flags)
                : ConfigLoader.parse("built-in defaults", "", ClientConfig.class, flags);
    }

    /** The donors of the configured portal.list. */
    static List<DonorAddress> donors(ClientConfig c) {
        return PortalList.parse(c.portalList());
    }
}
