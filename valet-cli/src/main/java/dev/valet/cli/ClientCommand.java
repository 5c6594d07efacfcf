package dev.valet.cli;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.EngineStats;
import dev.valet.client.kernel.KernelChannel;
import dev.valet.client.kernel.PageStore;
import dev.valet.client.kernel.PagingSafety;
import dev.valet.client.nbd.NbdExport;
import dev.valet.client.nbd.NbdServer;
import dev.valet.client.tier.HostTier;
import dev.valet.client.tier.TierStats;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.net.TlsContexts;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.posix.TerminationSignals;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/** {@code valet client}: the daemon that serves /dev/valetN from the donors. */
@Command(name = "client", mixinStandardHelpOptions = true,
        header = "Serve /dev/valetN, the kernel module's swap device, from the donors (the client daemon).",
        description = {
            "Serve the block device /dev/valetN of the valet kernel module",
            "(setup/module.sh load) from the donors of portal.list: every page the",
            "kernel swaps out to it is stored, replicated, on donors.",
            "Finds the device of swapSpace bytes (left by an earlier client) or",
            "creates it with the device: settings of valet.yaml, and serves it until",
            "SIGTERM or Ctrl-C; then it detaches, and the module holds requests",
            "(device.holdTimeout) for the next client. Needs root. Start it with",
            "bin/valet, which fixes and pre-touches the JVM heap so that locking all",
            "memory is safe (VALET_CLIENT_JAVA_OPTS overrides that).",
            "With --nbd (nbd.listen) it serves the swap space as one NBD export",
            "instead, for nbd-client or libnbd's tools, and needs no kernel module.",
            "Exit status 0 after a signal; 1 on failure (module not loaded, driver",
            "refusing, engine or channel failure); 2 for bad input."})
final class ClientCommand implements java.util.concurrent.Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ClientCommand.class);
    /** How long to wait for /dev/valetN to appear after the driver made the disk. */
    private static final long DEVICE_NODE_WAIT_MS = 10_000;
    /** JVM heap besides the engine's page table (12 bytes per page). */
    private static final long BASE_HEAP_BYTES = 128L << 20;

    @Mixin
    ClientConfigOptions client;

    @Mixin
    NbdOption nbd;

    @Mixin
    MetricsOption metrics;

    @Option(names = "--ready-file", paramLabel = "FILE",
            description = "Once /dev/valetN is ready, write its path (e.g. /dev/valet0) to this file (atomically),"
                    + " for scripts such as setup/client.sh that wait for it; with --nbd, the NBD endpoint."
                    + " Removed again on exit.")
    Path readyFile;

    @Option(names = "--require-mlock",
            description = "Fail (exit 1) when the daemon's memory cannot be locked (mlockall), instead of warning"
                    + " and running with memory that may itself be swapped out.")
    boolean requireMlock;

    @Override
    public Integer call() throws Exception {
        ClientConfig config = client.load(ConfigFlags.given(nbd, metrics).toArray(new ConfigOverride[0]));
        List<DonorAddress> donors = ClientConfigOptions.donors(config);
        CountDownLatch stop = new CountDownLatch(1);
        String onSignal = config.nbd().enabled() ? "closing the NBD export and its connections"
                : "detaching (requests wait for the next client)";
        TerminationSignals.onTermination(signal -> {
            LOG.info("SIG{}: {}", signal, onSignal);
            stop.countDown();
        });
        checkHeap(config);
        String notLocked = PagingSafety.lockAllMemory();
        if (notLocked != null) {
            String why = notLocked + ": the daemon's own memory may be swapped out, and paging out would then wait"
                    + " on itself (run as root, or raise RLIMIT_MEMLOCK)";
            if (requireMlock) {
                throw new IOException(why);
            }
            LOG.warn("{}", why);
        }
        String notFlusher = PagingSafety.becomeIoFlusher();
        if (notFlusher != null) {
            LOG.warn("{}: the daemon's allocations may recurse into I/O under memory pressure (run as root, Linux"
                    + " 5.6 or later)", notFlusher);
        }
        if (config.nbd().enabled()) {
            serveNbd(config, donors, stop);
            return 0;
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<HostTier> tier = new AtomicReference<>();
        KernelChannel.TierOpener opener = !config.hostTier().enabled() ? null : (memory, backing) -> {
            tier.set(HostTier.open(memory, backing, HostTier.Settings.of(config)));
            return tier.get();
        };
        try (Engine engine = Engine.start(config, donors);
             KernelChannel channel = KernelChannel.open(PageStore.of(engine), KernelChannel.Settings.from(config),
                     opener);
             ClientEndpoints endpoints = ClientEndpoints.start(config, engine, channel::stats,
                     () -> tier.get() != null ? tier.get().stats() : null)) {
            channel.failure().thenAccept(e -> {
                failure.set(e);
                stop.countDown();
            });
            String device = channel.devicePath();
            waitForDeviceNode(Path.of(device));
            LOG.info("serving {} ({} bytes) for {}{}", device, channel.deviceBytes(), config.identity(),
                    endpoints.summary());
            if (readyFile != null) {
                writeReadyFile(readyFile, device);
            }
            stop.await();
            logEngine(engine.stats());
            logStages(channel.stats(), engine.wire());
            if (tier.get() != null) {
                logTier(tier.get().stats());
            }
        } finally {
            if (readyFile != null) {
                Files.deleteIfExists(readyFile);
            }
        }
        Throwable e = failure.get();
        if (e != null) {
            throw new IOException("kernel channel failed: " + e, e);
        }
        return 0;
    }

    /** Serves the engine as one NBD export at {@code nbd.listen} until {@code stop}. */
    private void serveNbd(ClientConfig config, List<DonorAddress> donors, CountDownLatch stop) throws Exception {
        long size = config.swapSpace().bytes();
        NbdExport export = NbdExport.of(size, (int) config.nbd().maxRequestBytes().bytes());
        SslContext tls = nbdTls(config);
        try (Engine engine = Engine.start(config, donors);
             NbdServer server = NbdServer.start(config.nbd(), tls, export,
                     PageStore.of(engine), engine.eventLoops());
             ClientEndpoints endpoints = ClientEndpoints.start(config, engine, null, null)) {
            LOG.info("serving nbd export at {} ({} bytes) for {}{}{}", server.endpoint(), size, config.identity(),
                    tls != null ? ", TLS required (NBD_OPT_STARTTLS)" : "",
                    endpoints.summary());
            if (readyFile != null) {
                writeReadyFile(readyFile, server.endpoint());
            }
            stop.await();
            logEngine(engine.stats());
        } finally {
            if (readyFile != null) {
                Files.deleteIfExists(readyFile);
            }
        }
    }

    /** The TLS an NBD client must start (a TCP endpoint with tls.enabled), or null. */
    private static SslContext nbdTls(ClientConfig config) {
        return config.nbd().tlsRequired(config.tls()) ? TlsContexts.forServer(config.tls()).orElseThrow() : null;
    }

    /** The engine's closing counters: requests held for missing copies, donors suspected and live. */
    private static void logEngine(EngineStats s) {
        LOG.info("engine: held_requests={} held_max_ms={} held_failed={} suspected_donors={} live_donors={}",
                s.heldRequests(), s.heldMaxMillis(), s.heldFailed(), s.suspectedDonors(), s.liveDonors());
    }

    /** The host tier's counters (docs/host-tier.md), one line the VM lab reads ({@code tier: slots=...}). */
    private static void logTier(TierStats t) {
        LOG.info(String.format(Locale.ROOT, "tier: slots=%d writes=%d write_waits=%d reads=%d hits=%d misses=%d"
                        + " prefetched=%d prefetch_used=%d dirty=%d clean=%d free=%d flushed=%d flush_failures=%d"
                        + " recovered_dirty=%d backing_calls=%d backing_pages=%d hit_rate=%.3f", t.slots(), t.writes(),
                t.writeWaits(), t.reads(), t.hits(), t.misses(), t.prefetched(), t.prefetchedUsed(), t.dirty(),
                t.clean(), t.free(), t.flushed(), t.flushFailures(), t.recoveredDirty(), t.backingCalls(),
                t.backingPages(), t.hitRate()));
    }

    /**
     * The stage line: where the daemon's share of a request's time went (the driver's counters give the rest:
     * docs/performance.md). Engine: from the engine call to its answer, mean per read or write; donor round trip:
     * mean per answered request, from its frame to its reply (TCP) or its first work request to its last completion
     * (RDMA: see {@code RequestTiming}).
     */
    private static void logStages(KernelChannel.Stats c, WireCounters wire) {
        long frames = wire.frames();
        LOG.info(String.format(Locale.ROOT, "stages: requests=%d engine_us_per_request=%.0f"
                        + " donor_round_trip_us=%.0f frames_per_request=%.2f frames_per_flush=%.2f"
                        + " completions_per_done=%.1f", c.requests(), c.engineMicrosPerRequest(),
                wire.replies() == 0 ? 0.0 : wire.roundTripNanos() / 1000.0 / wire.replies(),
                c.engineAnswers() == 0 ? 0.0 : (double) frames / c.engineAnswers(),
                wire.flushes() == 0 ? 0.0 : (double) frames / wire.flushes(),
                c.doneMessages() == 0 ? 0.0 : (double) c.completions() / c.doneMessages()));
    }

    /** Warns when the heap cannot hold the engine's page table (versions and checksums: 12 bytes per page). */
    private static void checkHeap(ClientConfig config) {
        long pages = config.swapSpace().bytes() / 4096;
        long needed = BASE_HEAP_BYTES + 12 * pages;
        long max = Runtime.getRuntime().maxMemory();
        if (max < needed) {
            LOG.warn("the JVM heap is {} MiB, but a swap space of {} needs about {} MiB: raise -Xms/-Xmx in"
                    + " VALET_CLIENT_JAVA_OPTS", max >> 20, config.swapSpace(), needed >> 20);
        }
    }

    private static void waitForDeviceNode(Path device) throws InterruptedException {
        long deadline = System.currentTimeMillis() + DEVICE_NODE_WAIT_MS;
        while (!Files.exists(device)) {
            if (System.currentTimeMillis() > deadline) {
                LOG.warn("{} has not appeared after {}s (is devtmpfs mounted on /dev?)", device,
                        DEVICE_NODE_WAIT_MS / 1000);
                return;
            }
            Thread.sleep(50);
        }
    }

    private static void writeReadyFile(Path file, String device) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, device + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
