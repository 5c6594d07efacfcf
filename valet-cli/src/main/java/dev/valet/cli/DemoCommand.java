package dev.valet.cli;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.EngineStats;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.config.EncryptionMode;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PagePattern;
import dev.valet.donor.DonorProcess;
import dev.valet.tools.workload.EngineLoad;
import io.netty.buffer.ByteBuf;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code valet demo}: the whole engine on loopback, with a donor killed (or short of memory) half-way. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Show replication at work: donors on loopback, one lost half-way, every page verified.",
        description = {
            "Start donors on loopback (separate processes), write a working set through the engine with two copies"
                    + " of every slab, SIGKILL one donor half-way and carry on, wait until re-replication has"
                    + " restored every copy, then read and verify every page.",
            "With --evict, no donor is killed: one donor's host runs short of memory half-way, it evicts its"
                    + " slabs, the engine moves them while writing on, and the demo waits until that donor holds"
                    + " none.",
            "Ends with one line:",
            "  demo: pages=N verified=V lost=L write_iops=W read_iops=R p99_us=P",
            "(iops = 4 KiB pages per second; p99_us = 99th percentile of a read request, microseconds).",
            "Exit status 0 only when lost=0, every page verified, every slab has all its copies again and (with"
                    + " --evict) that donor holds no slab."})
@ConfigKeysOf(ClientConfig.class)
final class DemoCommand implements Callable<Integer> {
    /** The demo's engine: quick to find the killed donor (a heartbeat every 200ms), repairing as fast as it can. */
    private static final String DEMO_YAML = """
            identity: valet-demo
            failover:
              heartbeatInterval: 200ms
              reReplicationRate: 4G
            """;

    @Mixin
    LoopbackClusterOptions cluster = new LoopbackClusterOptions(3, "2G", "64M", 1);

    @Mixin
    TransportOption transport;

    @Option(names = "--working-set", paramLabel = "SIZE", defaultValue = "1G", converter = Converters.Size.class,
            description = "Bytes written and verified (the swap space, swapSpace). Default: ${DEFAULT-VALUE}.")
    ByteSize workingSet;

    @Option(names = "--replicas", paramLabel = "N", defaultValue = "2",
            description = "Copies of every slab (placement.numReplica). Default: ${DEFAULT-VALUE}.")
    int replicas;

    @Option(names = "--kill", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "SIGKILL one donor half-way through the writes (--no-kill to keep them all; --evict"
                    + " replaces it). Default: ${DEFAULT-VALUE}.")
    boolean kill;

    @Option(names = "--evict",
            description = "Instead of killing a donor, make its host short of memory half-way through the writes"
                    + " (the donors read their free memory from a file of the demo's, the donor's meminfo test"
                    + " hook; they keep " + LoopbackDonors.EVICT_BELOW + " free): it evicts every slab it"
                    + " holds, and the demo fails unless all of them moved with no page lost.")
    boolean evict;

    @Option(names = "--backup-disk", paramLabel = "FILE",
            description = "Also write every page to this file and read from it when no donor can.")
    @ConfigKey("backupDisk")
    Path backupDisk;

    @Option(names = "--encryption", paramLabel = "MODE", converter = Converters.Encryption.class,
            description = "Page encryption: off, or aes-256-gcm (donors, the wire and the backup disk see only"
                    + " ciphertext; without --encryption-key-file the key is derived from the spawned donors'"
                    + " cluster secret).")
    @ConfigKey("encryption.mode")
    EncryptionMode encryption;

    @Option(names = "--encryption-key-file", paramLabel = "FILE",
            description = "The page key: a file of 32 to 4096 random bytes, mode 0600 (docs/security.md).")
    @ConfigKey("encryption.keyFile")
    Path encryptionKeyFile;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64",
            description = "Pages per engine request. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--window", paramLabel = "N", defaultValue = "16",
            description = "Requests in flight. Default: ${DEFAULT-VALUE}.")
    int window;

    @Option(names = "--request-timeout", paramLabel = "DURATION", defaultValue = "5s",
            converter = Converters.Time.class,
            description = "How long one request to a donor may take. Default: ${DEFAULT-VALUE}.")
    @ConfigKey("requestTimeout")
    Duration requestTimeout;

    @Option(names = "--donor-timeout", paramLabel = "DURATION", defaultValue = "1s", converter = Converters.Time.class,
            description = "Silence after which a donor is suspected; slow machines (an emulated VM) need more."
                    + " Default: ${DEFAULT-VALUE}.")
    @ConfigKey("failover.donorTimeout")
    Duration donorTimeout;

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        long pages = workingSet.bytes() / FrameHeader.PAGE_SIZE;
        demoConfig(); // a bad flag stops the demo before it starts anything
        try (LoopbackDonors spawned = cluster.start("demo", evict)) {
            ClientConfig config = demoConfig(spawned.secret());
            int status;
            try (Engine engine = Engine.start(config, spawned.addresses());
                 EngineLoad load = new EngineLoad(engine, window, batch)) {
                status = run(engine, load, pages, spawned);
            }
            if (status == 0) {
                spawned.succeeded();
            }
            return status;
        }
    }

    /** {@link #DEMO_YAML} with the flags, then {@code more} (the started donors' secret), laid over it. */
    private ClientConfig demoConfig(ConfigOverride... more) {
        List<ConfigOverride> flags = new ArrayList<>(ConfigFlags.given(this, transport));
        if (more.length == 0 && encryptionKeyFile == null) {
            // Checked before the donors start: their secret, the key's source then, does not exist yet.
            flags.removeIf(flag -> flag.keyPath().equals("encryption.mode"));
        }
        flags.addAll(List.of(
                new ConfigOverride("swapSpace", workingSet, "--working-set"),
                new ConfigOverride("slabSize", cluster.slabSize, "--slab-size"),
                new ConfigOverride("maxPagesPerFrame", batch, "--batch"),
                new ConfigOverride("placement.numReplica", replicas, "--replicas"),
                new ConfigOverride("placement.serverSelectNum", Math.max(replicas, cluster.donors), "--replicas")));
        flags.addAll(List.of(more));
        return ConfigLoader.parse("valet demo", DEMO_YAML, ClientConfig.class, flags);
    }

    private int run(Engine engine, EngineLoad load, long pages, LoopbackDonors spawned) throws Exception {
        long half = pages / 2 / batch * batch;
        EngineLoad.Result w1;
        EngineLoad.Result w2;
        DonorProcess victim = spawned.processes().get(0);
        try (ProgressBar bar = Progress.bar("write", pages, noProgress)) {
            w1 = load.write(EngineLoad.sequential(0, half, batch), this::fill, bar::stepBy);
            if (evict) {
                spawned.runShortOfMemory(0);
                bar.setExtraMessage(" donor " + victim.address() + " short of memory");
                say("%ndonor %s: its host is short of memory from now on (after %d pages); writing on",
                        victim.address(), half);
            } else if (kill) {
                victim.kill();
                bar.setExtraMessage(" killed donor " + victim.address());
                say("%nkilled donor %s (pid %d, SIGKILL) after %d pages; writing on", victim.address(), victim.pid(),
                        half);
            }
            w2 = load.write(EngineLoad.sequential(half, pages, batch), this::fill, bar::stepBy);
        }
        boolean emptied = !evict || awaitEvicted(engine, victim.address(), Duration.ofMinutes(5));
        boolean restored = new RepairProgress(replicas, line -> say("%s", line))
                .await(engine::stats, Duration.ofMinutes(5), Duration.ofMillis(500));
        EngineStats after = engine.stats();
        say("%s: %d slabs, every one with %d copies", restored ? "restored" : "NOT restored", after.slabsMapped(),
                replicas);
        EngineLoad.Result r;
        try (ProgressBar bar = Progress.bar("verify", pages, noProgress)) {
            r = load.read(EngineLoad.sequential(0, pages, batch), this::check, bar::stepBy);
        }
        long written = w1.pages() + w2.pages();
        long lost = pages - r.pages();
        double writeIops = written * 1e9 / (w1.nanos() + w2.nanos());
        System.out.printf("demo: pages=%d verified=%d lost=%d write_iops=%.0f read_iops=%.0f p99_us=%d%n", pages,
                r.pages(), lost, writeIops, r.pagesPerSecond(), r.latencyMicros().getValueAtPercentile(99));
        return lost == 0 && written == pages && restored && emptied ? 0 : ErrorReporter.EXIT_FAILURE;
    }

    /** Waits until no slab has a copy (or a copy being made) on {@code donor}; says how it goes. */
    private static boolean awaitEvicted(Engine engine, DonorAddress donor, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long left = -1;
        while (true) {
            long held = engine.slabsHeldBy(donor);
            if (held == 0) {
                say("evicted: donor %s holds no slab (%d moved)", donor, engine.stats().slabsMigrated());
                return true;
            }
            if (System.nanoTime() > deadline) {
                say("NOT evicted: %d slabs still on donor %s after %d s", held, donor, timeout.toSeconds());
                return false;
            }
            if (held != left) {
                say("eviction: %d slabs still on donor %s, %d moved", held, donor, engine.stats().slabsMigrated());
                left = held;
            }
            Thread.sleep(500);
        }
    }

    private final byte[] page = new byte[FrameHeader.PAGE_SIZE];

    private void fill(long pageNo, ByteBuf buf, int index) {
        PagePattern.fill(page, cluster.seed, 0, pageNo, 1);
        buf.setBytes(index, page);
    }

    private final ThreadLocal<byte[]> expected = ThreadLocal.withInitial(() -> new byte[FrameHeader.PAGE_SIZE]);

    private boolean check(long pageNo, ByteBuf buf, int index) {
        byte[] e = expected.get();
        PagePattern.fill(e, cluster.seed, 0, pageNo, 1);
        for (int i = 0; i < FrameHeader.PAGE_SIZE; i++) {
            if (buf.getByte(index + i) != e[i]) {
                return false;
            }
        }
        return true;
    }

    private static void say(String format, Object... args) {
        System.err.printf(format + "%n", args);
    }
}
