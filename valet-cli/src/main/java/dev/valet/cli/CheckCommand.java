package dev.valet.cli;

import dev.valet.client.metrics.ClientMetrics;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.metrics.MetricsEndpoint;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.tools.check.PageCheck;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code valet check}: write pages to donors, read them back, verify every byte. */
@Command(name = "check", mixinStandardHelpOptions = true,
        header = "Write pages to donors, read them back and verify every byte.",
        description = {
            "Write a known pattern to pages on the donors, read every page back and verify it (version, CRC32C,"
                    + " every byte). Slab s goes to donor s mod N. Ends with one summary line:",
            "  check: donors=N pages=P verified=V mismatches=M failed_requests=F"
                    + " write_pages_per_s=W read_pages_per_s=R",
            "Exit status 0 only when every page verified; 1 otherwise; 2 for bad input.",
            "With --spawn-donors N (or --donors N) it starts N donor processes on this machine itself and checks"
                    + " against them instead of portal.list; 0, the default, checks the donors of portal.list.",
            "With encryption.mode: aes-256-gcm in valet.yaml, pages are encrypted and authenticated as the client"
                    + " does (same key, same identity); a page that fails authentication is a mismatch, counted"
                    + " in auth_failures."})
final class CheckCommand implements Callable<Integer> {
    @Mixin
    ClientConfigOptions client;

    @Mixin
    LoopbackClusterOptions cluster = new LoopbackClusterOptions(0, "1G", "16M", 42);

    @Mixin
    MetricsOption metrics;

    @Option(names = "--pages", paramLabel = "N", defaultValue = "65536",
            description = "Pages (4 KiB each) to write and verify. Default: ${DEFAULT-VALUE} (256 MiB).")
    long pages;

    @Option(names = "--first-slab", paramLabel = "ID", defaultValue = "0",
            description = "Id of the first slab; ids run upward from it. Default: ${DEFAULT-VALUE}.")
    long firstSlab;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64",
            description = "Pages per request (capped by the donor's frame size). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--window", paramLabel = "N", defaultValue = "16",
            description = "Requests in flight at once. Default: ${DEFAULT-VALUE}.")
    int window;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
            description = "Times every page is written (each round a new version and content); the read"
                    + " checks the last. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--keep", description = "Keep the slabs on the donors afterwards (default: free them).")
    boolean keep;

    @Option(names = "--verify-only", description = "Write nothing: read and verify the pages a previous"
            + " 'valet check --keep' left on the donors of portal.list (give it the same identity, --pages,"
            + " --first-slab, --slab-size, --rounds, --seed and key). The slabs are kept. With another key every page"
            + " fails authentication.")
    boolean verifyOnly;

    @Option(names = "--no-progress", description = "Do not draw a progress bar.")
    boolean noProgress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        validate();
        ClientConfig config = client.load(ConfigFlags.given(metrics).toArray(new ConfigOverride[0]));
        PageCheck.Options options = new PageCheck.Options(pages, cluster.slabSize.bytes(), firstSlab, batch,
                window, rounds, cluster.seed, !keep, verifyOnly);
        if (cluster.donors == 0) {
            return check(config, ClientConfigOptions.donors(config), options);
        }
        try (LoopbackDonors spawned = cluster.start("check", false)) {
            int status = check(ConfigLoader.override(config, spawned.secret()), spawned.addresses(), options);
            if (status == 0) {
                spawned.succeeded();
            }
            return status;
        }
    }

    /** Each bad flag named with its value, before anything connects or starts. */
    private void validate() {
        atLeast("--pages", pages, 1);
        atLeast("--first-slab", firstSlab, 0);
        atLeast("--batch", batch, 1);
        atLeast("--window", window, 1);
        atLeast("--rounds", rounds, 1);
        atLeast("--donors", cluster.donors, 0);
        if (verifyOnly && cluster.donors > 0) {
            throw new ParameterException(spec.commandLine(), "--verify-only reads what an earlier check left on the"
                    + " donors of portal.list; donors started by --spawn-donors " + cluster.donors + " hold nothing");
        }
        long slab = cluster.slabSize.bytes();
        if (slab < FrameHeader.PAGE_SIZE || slab % FrameHeader.PAGE_SIZE != 0) {
            throw new ParameterException(spec.commandLine(), "--slab-size must be a multiple of 4K, got "
                    + cluster.slabSize);
        }
    }

    private void atLeast(String flag, long value, long least) {
        if (value < least) {
            throw new ParameterException(spec.commandLine(), flag + " must be at least " + least + ", got " + value);
        }
    }

    private int check(ClientConfig config, List<DonorAddress> donors, PageCheck.Options options)
            throws InterruptedException, IOException {
        try (DonorTransport transport = Connections.transport(config)) {
            List<DonorConnection> connections = Connections.openAllPatiently(transport, donors, config.identity(),
                    config.connectTimeout());
            MetricsEndpoint endpoint = null;
            try {
                // The transport's series (frames, round trips per donor and operation) while the check runs.
                if (config.metrics().enabled()) {
                    endpoint = MetricsEndpoint.start(config.metrics(),
                            f -> ClientMetrics.transport(f, transport.wire()), null, config.tls());
                }
                PageCipher cipher = config.encryption().loadKey(config.auth(), config.identity())
                        .map(k -> new PageCipher(k, options.slabBytes() / FrameHeader.PAGE_SIZE, config.identity()))
                        .orElse(null);
                PageCheck.Result r;
                try (ProgressBar bar = Progress.bar("check", options.progressUnits(), noProgress)) {
                    r = new PageCheck(connections, options, bar::stepBy, cipher).run();
                }
                PrintWriter out = spec.commandLine().getOut();
                PrintWriter err = spec.commandLine().getErr();
                if (r.authenticationFailures() > 0 && cipher != null) {
                    err.printf("check: %d pages failed authentication (AES-GCM): they were written under another key"
                            + " than %s (encryption.keyFile, or the identity), or altered%n",
                            r.authenticationFailures(), cipher.key().source());
                }
                out.printf("check: donors=%d pages=%d verified=%d mismatches=%d failed_requests=%d"
                                + " write_pages_per_s=%.0f read_pages_per_s=%.0f encryption=%s auth_failures=%d%n",
                        donors.size(), r.pages(), r.pagesVerified(), r.mismatches(), r.failedRequests(),
                        r.writePagesPerSecond(), r.readPagesPerSecond(), config.encryption().mode(),
                        r.authenticationFailures());
                out.flush();
                err.flush();
                return r.clean() ? 0 : ErrorReporter.EXIT_FAILURE;
            } finally {
                connections.forEach(DonorConnection::close);
                if (endpoint != null) {
                    endpoint.close();
                }
            }
        }
    }
}
