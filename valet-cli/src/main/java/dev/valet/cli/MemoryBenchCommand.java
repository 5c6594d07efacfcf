package dev.valet.cli;

import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.portal.DonorAddress;
import dev.valet.memory.MemoryOptions;
import dev.valet.memory.RemoteMemory;
import dev.valet.memory.alloc.Allocator;
import dev.valet.memory.bench.MemoryBench;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code valet memory-bench}: the remote-memory API (valet-memory) under Gengar's benchmark shape, on donors it
 * starts on loopback or on those of a valet.yaml. The benchmark itself is valet-memory's {@link MemoryBench}.
 */
@Command(name = "memory-bench", mixinStandardHelpOptions = true,
        description = {
            "Benchmark the remote-memory API (docs/memory-api.md) as Gengar's benchmark does: allocate --objects"
                    + " regions of --object-size bytes, write each once, then --ops whole-object operations on"
                    + " objects drawn at random, --read-percent of them reads and the rest writes of a new version,"
                    + " --depth in flight through the async API, then read every object back. Every read is checked"
                    + " byte for byte against the version last written.",
            "By default it starts --donors donor processes on this machine (each lending --donor-memory) and"
                    + " connects with --replicas copies of every slab. With --config or --portal (or --donors 0) it"
                    + " starts none and uses the donors of valet.yaml's portal.list and its settings (swapSpace must"
                    + " hold the objects).",
            "Ends with one line (reads, writes and latencies of the measured mix only, microseconds; verified:"
                    + " objects read back exactly; lost: objects that were not):",
            "  memory-bench: objects=N reads=R writes=W verified=V lost=L read_p50_us=.. read_p99_us=.."
                    + " write_p99_us=..",
            "Exit status 0 only when lost=0, no operation failed and every object verified; 1 otherwise; 2 for"
                    + " bad input."})
final class MemoryBenchCommand implements Callable<Integer> {
    /** The loopback engine: quick to find a dead donor, as the demo's. */
    private static final String LOOPBACK_YAML = """
            identity: valet-memory-bench
            failover:
              heartbeatInterval: 200ms
              reReplicationRate: 4G
            """;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ClientConfigOptions client;

    @Mixin
    LoopbackClusterOptions cluster = new LoopbackClusterOptions(3, "512M", "64M", 1);

    @Option(names = "--objects", paramLabel = "N", defaultValue = "256",
            description = "Regions to allocate. Default: ${DEFAULT-VALUE}.")
    int objects;

    @Option(names = "--object-size", paramLabel = "SIZE", defaultValue = "512K", converter = Converters.Size.class,
            description = "Bytes of each region (1 to 1G; up to 2K packed many to a page). Default: ${DEFAULT-VALUE}.")
    ByteSize objectSize;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "2000",
            description = "Operations of the measured mix (each reads or writes one whole object)."
                    + " Default: ${DEFAULT-VALUE}.")
    long ops;

    @Option(names = "--read-percent", paramLabel = "P", defaultValue = "50",
            description = "Share of reads in the mix, 0 to 100; the rest are writes. Default: ${DEFAULT-VALUE}.")
    int readPercent;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "8",
            description = "Operations in flight at once (async threads of the memory), 1 to --objects and at most "
                    + MemoryOptions.MAX_ASYNC_THREADS + ". Default: ${DEFAULT-VALUE}.")
    int depth;

    @Option(names = "--cache", paramLabel = "SIZE", defaultValue = "0", converter = Converters.Size.class,
            description = "Local cache of hot pages (0: none): reads of cached pages ask no donor."
                    + " Default: ${DEFAULT-VALUE}.")
    ByteSize cache;

    @Option(names = "--replicas", paramLabel = "N", defaultValue = "2",
            description = "Copies of every slab on the started donors (placement.numReplica), 1 to --donors; with"
                    + " --donors 0 valet.yaml's numReplica holds. Default: ${DEFAULT-VALUE}.")
    int replicas;

    @Option(names = "--no-progress", description = "Do not draw a progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        MemoryBench.Options options = options();
        MemoryOptions memoryOptions = MemoryOptions.DEFAULTS.withCacheBytes(cache.bytes()).withAsyncThreads(depth);
        if (!startsDonors()) {
            ClientConfig config = client.load();
            return bench(config, ClientConfigOptions.donors(config), options, memoryOptions);
        }
        loopbackConfig(); // a bad flag stops the bench before it starts anything
        try (LoopbackDonors spawned = cluster.start("memory-bench", false)) {
            int status = bench(loopbackConfig(spawned.secret()), spawned.addresses(), options, memoryOptions);
            if (status == 0) {
                spawned.succeeded();
            }
            return status;
        }
    }

    private MemoryBench.Options options() {
        CommandLine cl = spec.commandLine();
        if (objects < 1 || ops < 0 || readPercent < 0 || readPercent > 100) {
            throw new CommandLine.ParameterException(cl, "--objects must be at least 1, --ops not negative,"
                    + " --read-percent 0 to 100");
        }
        if (objectSize.bytes() < 1 || objectSize.bytes() > ByteSize.ofGibibytes(1).bytes()) {
            throw new CommandLine.ParameterException(cl, "--object-size must be 1 byte to 1G, got " + objectSize);
        }
        if (depth < 1 || depth > Math.min(objects, MemoryOptions.MAX_ASYNC_THREADS)) {
            throw new CommandLine.ParameterException(cl, "--depth must be 1 to " + Math.min(objects,
                    MemoryOptions.MAX_ASYNC_THREADS) + " (--objects, and the async threads' limit), got " + depth);
        }
        if (startsDonors() && (replicas < 1 || replicas > cluster.donors)) {
            throw new CommandLine.ParameterException(cl, "--replicas must be 1 to --donors (" + cluster.donors
                    + "), got " + replicas);
        }
        return new MemoryBench.Options(objects, (int) objectSize.bytes(), ops, readPercent, depth, cluster.seed);
    }

    /** The started donors' engine: a space that holds every object, in --slab-size slabs. */
    private ClientConfig loopbackConfig(ConfigOverride... more) {
        long space = objectSize.bytes() <= Allocator.LARGEST_SLOT
                ? (objects + objectsPerPage() - 1) / objectsPerPage() * 4096
                : objects * ((objectSize.bytes() + 4095) / 4096 * 4096);
        long slab = cluster.slabSize.bytes();
        space = Math.max(slab, (space + slab - 1) / slab * slab);
        List<ConfigOverride> flags = new ArrayList<>(ConfigFlags.given(client, client.transport));
        flags.addAll(List.of(
                new ConfigOverride("swapSpace", ByteSize.ofBytes(space), "--objects x --object-size"),
                new ConfigOverride("slabSize", cluster.slabSize, "--slab-size"),
                new ConfigOverride("placement.numReplica", replicas, "--replicas"),
                new ConfigOverride("placement.serverSelectNum", Math.max(replicas, cluster.donors), "--replicas")));
        flags.addAll(List.of(more));
        return ConfigLoader.parse("valet memory-bench", LOOPBACK_YAML, ClientConfig.class, flags);
    }

    /** Whether it starts donors of its own: not with --donors 0, --config or --portal (valet.yaml's donors). */
    private boolean startsDonors() {
        return cluster.donors > 0 && client.config == null && client.portal == null;
    }

    /** Objects of up to 2K share pages: as many as slots of their size class (64, 128, ... 2048 bytes) fit. */
    private long objectsPerPage() {
        long slot = 64;
        while (slot < objectSize.bytes()) {
            slot <<= 1;
        }
        return 4096 / slot;
    }

    private int bench(ClientConfig config, List<DonorAddress> donors, MemoryBench.Options options,
                      MemoryOptions memoryOptions) throws Exception {
        MemoryBench.Result r;
        try (RemoteMemory memory = RemoteMemory.connect(config, donors, memoryOptions);
             ProgressBar bar = Progress.bar("memory-bench", options.progressUnits(), noProgress, " ops")) {
            r = new MemoryBench(memory, options, bar::stepBy).run();
        }
        if (r.failed() > 0) {
            System.err.printf("memory-bench: %d operations failed (the log names the first)%n", r.failed());
        }
        spec.commandLine().getOut().printf("memory-bench: objects=%d reads=%d writes=%d verified=%d lost=%d"
                        + " read_p50_us=%d read_p99_us=%d write_p99_us=%d%n", r.objects(), r.reads(), r.writes(),
                r.verified(), r.lost(), r.readMicros().getValueAtPercentile(50),
                r.readMicros().getValueAtPercentile(99), r.writeMicros().getValueAtPercentile(99));
        spec.commandLine().getOut().flush();
        return r.clean() ? 0 : ErrorReporter.EXIT_FAILURE;
    }
}
