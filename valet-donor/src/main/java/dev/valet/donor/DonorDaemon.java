package dev.valet.donor;

import dev.valet.common.config.ConfigException;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.metrics.MetricsEndpoint;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.posix.TerminationSignals;
import dev.valet.donor.memory.MemInfo;
import dev.valet.donor.metrics.DonorMetrics;
import dev.valet.donor.server.DonorServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A donor daemon's life: listen, serve until SIGTERM or Ctrl-C, then close every connection and release every lent
 * slab. {@code valet donor} (valet-cli) runs it with donor.yaml and its flags.
 *
 * <p>{@link #main} is the internal entry point of the donors {@link DonorProcess} starts for tests, {@code valet
 * check}, {@code demo} and {@code bench}: {@code java -cp CLASSPATH dev.valet.donor.DonorDaemon DONOR_YAML
 * READY_FILE [MEMINFO_FILE]}. It lives here rather than behind {@code valet donor} so that the modules below
 * valet-cli (valet-client's tests) can start real donors without depending on the launcher.
 */
public final class DonorDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(DonorDaemon.class);

    private DonorDaemon() {
    }

    /**
     * Serves until a signal (or the server's own failure) closes the donor.
     *
     * @param memInfo   where the host's free memory is read: {@link MemInfo#system()}, or a test's file
     * @param readyFile once listening, the bound {@code HOST:PORT} is written to it (atomically), for scripts and
     *                  tests that start a donor on port 0; null for none. With {@code metrics.listen}, the
     *                  endpoint's URL ({@code http://HOST:PORT}) is written first to the file of the same name
     *                  ending in {@code .metrics}
     * @return the exit status, 0 after a signal
     */
    public static int run(DonorConfig config, MemInfo memInfo, Path readyFile) throws IOException,
            InterruptedException {
        DonorServer server = new DonorServer(config, memInfo);
        InetSocketAddress bound = server.start();
        // SIGTERM and SIGINT close the server, so run() returns and the process exits 0 (a shutdown hook alone
        // would leave the JVM exiting with the signal's status). The hook stays as a fallback for other exits.
        TerminationSignals.onTermination(signal -> new Thread(server::close, "valet-donor-shutdown").start());
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "valet-donor-shutdown-hook"));
        MetricsEndpoint metrics = null;
        try {
            if (config.metrics().enabled()) {
                metrics = MetricsEndpoint.start(config.metrics(), new DonorMetrics(server.donor()), null,
                        config.tls());
                if (readyFile != null) {
                    writeAtomically(readyFile.resolveSibling(readyFile.getFileName() + ".metrics"), metrics.url());
                }
            }
            if (readyFile != null) {
                writeReadyFile(readyFile, bound);
            }
            server.awaitClose();
        } finally {
            if (metrics != null) {
                metrics.close();
            }
            server.close();
        }
        return 0;
    }

    /**
     * A donor started by {@link DonorProcess}: {@code DONOR_YAML READY_FILE [MEMINFO_FILE]}. Exit status 2 for a bad
     * donor.yaml (its message on stderr, which DonorProcess shows), 1 for any other failure.
     */
    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: DonorDaemon DONOR_YAML READY_FILE [MEMINFO_FILE]");
            System.exit(2);
        }
        NettyTransport.daemonBufferSettings();
        int status;
        try {
            DonorConfig config = ConfigLoader.load(Path.of(args[0]), DonorConfig.class);
            MemInfo memInfo = args.length == 3 ? new MemInfo(Path.of(args[2])) : MemInfo.system();
            status = run(config, memInfo, Path.of(args[1]));
        } catch (ConfigException e) {
            System.err.println("donor: " + e.getMessage());
            status = 2;
        } catch (Exception e) {
            LOG.error("donor failed", e);
            status = 1;
        }
        System.exit(status);
    }

    private static void writeReadyFile(Path file, InetSocketAddress bound) throws IOException {
        String host = bound.getAddress().getHostAddress();
        writeAtomically(file, (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort());
        LOG.debug("ready file {} written", file);
    }

    private static void writeAtomically(Path file, String line) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, line + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
