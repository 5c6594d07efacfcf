package dev.valet.donor;

import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.config.TransportChoice;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import dev.valet.donor.memory.MemInfo;
import dev.valet.donor.server.DonorServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import sun.misc.Signal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code valet donor}: lend this machine's idle memory to Valet clients. */
@Command(name = "donor", mixinStandardHelpOptions = true,
        description = {
            "Lend this machine's idle memory to Valet clients over TCP, and over RDMA where the host has a device (--transport).",
            "Settings come from donor.yaml (--config); every flag below overrides its YAML key.",
            "Stops cleanly on SIGTERM or Ctrl-C: connections are closed and every lent slab is released."})
public final class DonorCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DonorCommand.class);

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "donor.yaml to read (default: none; built-in defaults, see docs/configuration.md).")
    Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", converter = AddressConverter.class,
            description = "Address to listen on, e.g. 0.0.0.0:7070 or [::1]:7070; port 0 picks a free port."
                    + " YAML key: listen (default 0.0.0.0:7070).")
    DonorAddress listen;

    @Option(names = "--memory", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Most memory to lend, e.g. 512M or 8G. YAML key: memory (default 1G).")
    ByteSize memory;

    @Option(names = "--max-slab", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Largest slab a client may allocate (4K..1G, multiple of 4K)."
                    + " YAML key: maxSlabBytes (default 1G).")
    ByteSize maxSlab;

    @Option(names = "--max-frame", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Largest wire frame accepted (64K..64M). YAML key: maxFrameBytes (default 1M).")
    ByteSize maxFrame;

    @Option(names = "--lock-memory", negatable = true, paramLabel = "BOOL",
            description = "mlock lent slabs so the donor never swaps a client's pages"
                    + " (--no-lock-memory to turn off). YAML key: lockMemory (default true).")
    Boolean lockMemory;

    @Option(names = "--transport", paramLabel = "KIND", converter = TransportConverter.class,
            description = "tcp: serve TCP only; rdma: also serve RDMA (rdma_cm on the same address and port) or"
                    + " fail to start; auto: also serve RDMA when this host has an RDMA device."
                    + " YAML key: transport (default auto).")
    TransportChoice transport;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "Cluster secret every client must prove (HMAC handshake): a file of 32 to 4096 random"
                    + " bytes, mode 0600. YAML key: auth.secretFile (default none).")
    Path secretFile;

    @Option(names = "--allow-unauthenticated",
            description = "Without a secret, listen on a non-loopback address anyway, serving any client that"
                    + " can reach it. YAML key: auth.allowUnauthenticated (default false).")
    boolean allowUnauthenticated;

    @Option(names = "--ready-file", paramLabel = "FILE",
            description = "Once listening, write the bound HOST:PORT to this file (atomically), for scripts"
                    + " and tests that start a donor on port 0.")
    Path readyFile;

    @Option(names = "--meminfo-file", paramLabel = "FILE",
            description = "Test hook (docs/operations.md): read MemAvailable from this file, in /proc/meminfo's"
                    + " format, instead of /proc/meminfo; tests rewrite it to induce memory pressure.")
    Path meminfoFile;

    /** Reads donor.yaml (if given) with the flags laid over it. */
    DonorConfig effectiveConfig() {
        List<ConfigOverride> flags = new ArrayList<>();
        flag(flags, "--listen", "listen", listen);
        flag(flags, "--memory", "memory", memory);
        flag(flags, "--max-slab", "maxSlabBytes", maxSlab);
        flag(flags, "--max-frame", "maxFrameBytes", maxFrame);
        flag(flags, "--lock-memory", "lockMemory", lockMemory);
        flag(flags, "--transport", "transport", transport);
        flag(flags, "--secret-file", "auth.secretFile", secretFile);
        flag(flags, "--allow-unauthenticated", "auth.allowUnauthenticated", allowUnauthenticated ? true : null);
        return config != null ? ConfigLoader.load(config, DonorConfig.class, flags)
                : ConfigLoader.parse("built-in defaults", "", DonorConfig.class, flags);
    }

    private static void flag(List<ConfigOverride> flags, String flag, String keyPath, Object value) {
        if (value != null) {
            flags.add(new ConfigOverride(keyPath, value, flag));
        }
    }

    @Override
    public Integer call() throws Exception {
        DonorConfig cfg = effectiveConfig();
        DonorServer server = new DonorServer(cfg, meminfoFile != null ? new MemInfo(meminfoFile) : MemInfo.system());
        InetSocketAddress bound = server.start();
        // SIGTERM and SIGINT close the server, so call() returns and the process exits 0 (a shutdown hook alone
        // would leave the JVM exiting with the signal's status). The hook stays as a fallback for other exits.
        for (String signal : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(signal), s -> new Thread(server::close, "valet-donor-shutdown").start());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "valet-donor-shutdown-hook"));
        if (readyFile != null) {
            writeReadyFile(readyFile, bound);
        }
        server.awaitClose();
        server.close();
        return 0;
    }

    private static void writeReadyFile(Path file, InetSocketAddress bound) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        String host = bound.getAddress().getHostAddress();
        String text = (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort() + "\n";
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        LOG.debug("ready file {} written", file);
    }

    public static void main(String[] args) {
        NettyTransport.daemonBufferSettings();
        System.exit(new CommandLine(new DonorCommand()).execute(args));
    }

    static final class AddressConverter implements CommandLine.ITypeConverter<DonorAddress> {
        @Override
        public DonorAddress convert(String value) {
            return DonorAddress.parseListen(value);
        }
    }

    static final class SizeConverter implements CommandLine.ITypeConverter<ByteSize> {
        @Override
        public ByteSize convert(String value) {
            return ByteSize.parse(value);
        }
    }

    static final class TransportConverter implements CommandLine.ITypeConverter<TransportChoice> {
        @Override
        public TransportChoice convert(String value) {
            return TransportChoice.parse(value);
        }
    }
}
