package dev.valet.cli;

import dev.valet.client.dashboard.DashboardHandler;
import dev.valet.client.transport.DonorTransport;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.metrics.MetricsEndpoint;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.posix.TerminationSignals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code valet dashboard}: the web dashboard's cluster view, from any machine that can reach the donors. */
@Command(name = "dashboard", mixinStandardHelpOptions = true,
        header = "Serve a web dashboard of the donors of portal.list (a cluster view from any machine).",
        description = {
            "Serve the web dashboard's cluster view: every donor of portal.list, asked as valet status asks"
                    + " (--interval), with its memory lent, offered and free, slabs, clients and round trip, a"
                    + " chart of pages/s at the donors, and recent events (a donor down or back, evicting).",
            "Open http://ADDR/ in a browser; /metrics has the same numbers for Prometheus. Read-only; a loopback"
                    + " address unless metrics.allowRemote (--allow-remote) is set. Runs until SIGTERM or Ctrl-C.",
            "A client daemon serves its own view (with its slabs and its share of each donor) at metrics.listen."})
final class DashboardCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DashboardCommand.class);

    @Mixin
    ClientConfigOptions client;

    @Mixin
    Listen listen;

    @Option(names = "--interval", paramLabel = "DURATION", converter = Converters.Time.class, defaultValue = "2s",
            description = "How often the donors are asked. Default: ${DEFAULT-VALUE}.")
    Duration interval;

    @Option(names = "--ready-file", paramLabel = "FILE",
            description = "Once serving, write the dashboard's URL (http://HOST:PORT/) to this file (atomically),"
                    + " for scripts and tests that listen on port 0.")
    Path readyFile;

    /** The flags that set the {@code metrics} keys this command serves on. */
    @ConfigKeysOf(ClientConfig.class)
    static final class Listen {
        @Option(names = "--listen", paramLabel = "HOST:PORT",
                description = "Address to serve the dashboard on; port 0 picks a free port (logged).")
        @ConfigKey(value = "metrics.listen", defaultText = "127.0.0.1:9190 for this command")
        String address;

        @Option(names = "--allow-remote",
                description = "Allow an address that is not loopback: the page is read-only but shows the"
                        + " cluster's donors, sizes and load to anyone who can reach it.")
        @ConfigKey("metrics.allowRemote")
        Boolean allowRemote;
    }

    @Override
    public Integer call() throws Exception {
        List<ConfigOverride> flags = new ArrayList<>();
        if (listen.address == null) {
            flags.add(ConfigOverride.of("metrics.listen", "127.0.0.1:9190"));
        }
        flags.addAll(ConfigFlags.given(listen));
        ClientConfig config = client.load(flags.toArray(new ConfigOverride[0]));
        List<DonorAddress> donors = ClientConfigOptions.donors(config);
        CountDownLatch stop = new CountDownLatch(1);
        TerminationSignals.onTermination(signal -> stop.countDown());
        try (DonorTransport transport = Connections.transport(config);
             ClusterView view = ClusterView.start(transport, donors, config.identity(),
                     "valet cluster (" + config.portalList() + ")", interval, config.connectTimeout());
             MetricsEndpoint endpoint = MetricsEndpoint.start(config.metrics(), view::collect,
                     new DashboardHandler(view::state), config.tls())) {
            LOG.info("dashboard of {} donors at {}/", donors.size(), endpoint.url());
            if (readyFile != null) {
                Path tmp = readyFile.resolveSibling(readyFile.getFileName() + ".tmp");
                Files.writeString(tmp, endpoint.url() + "/\n");
                Files.move(tmp, readyFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            stop.await();
        } finally {
            if (readyFile != null) {
                Files.deleteIfExists(readyFile);
            }
        }
        return 0;
    }
}
