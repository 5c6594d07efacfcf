package dev.valet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.config.EncryptionMode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.tools.bench.BenchPlan;
import dev.valet.tools.bench.BenchPlan.Op;
import dev.valet.tools.bench.BenchPlan.Pattern;
import dev.valet.tools.bench.BenchProgress;
import dev.valet.tools.bench.BenchReport;
import dev.valet.tools.bench.BenchResults;
import dev.valet.tools.bench.BenchTable;
import dev.valet.tools.bench.EngineBench;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code valet bench}: single-page latency and throughput of the engine on loopback, with a bare-transport floor.
 * The benchmark itself is valet-tools' {@link EngineBench}; this command checks the options, starts the donors,
 * and prints the table and the JSON report.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Measure 4 KiB page operations through the engine against donors started on loopback.",
        description = {
            "Start donors on loopback (separate processes) and measure 4 KiB single-page operations through the"
                    + " engine for every combination of pattern (seq, rand) x operation (write, read) x queue depth"
                    + " x copies per slab (numReplica): one fresh engine per numReplica value, its whole span"
                    + " written once first (prefill, not measured) so every read reads a written page; then every"
                    + " case's warm-up once (so the JIT has compiled every path before anything is measured); then"
                    + " per case its warm-up again and a measured run bounded by --ops and --duration. Reads verify"
                    + " every page (a stamp of page number and write generation at both ends, the fixed body in"
                    + " between).",
            "For reference, the same single-page round trips at depth 1 over a bare DonorConnection to one donor"
                    + " (no engine), measured in alternating chunks of 1000 with each depth-1 engine case so that"
                    + " both see the same machine: the 'engine vs bare transport' ratios say what the engine adds on"
                    + " this machine.",
            "Prints a table (ops/s; p50, p99, p99.9 latency of one operation in microseconds; errors; and per"
                    + " operation what it cost: alloc_B, heap bytes allocated by the bench JVM's threads, the"
                    + " progress bar's left out; client_us, the bench JVM's CPU, GC and JIT included; donors_us, the"
                    + " donor processes' CPU from /proc), then per case the client's CPU and allocations by thread"
                    + " group (valet-client-io: the transport's event loops; main: the thread that submits, where"
                    + " the engine's submission path runs) and the voluntary context switches (hand-offs between"
                    + " threads) per operation of the client and the donors. Only the measured runs count, not the"
                    + " warm-ups; threads that start and end within a case are not seen.",
            "Exit status 0 only when every case had 0 errors; 1 otherwise; 2 for bad input."})
@ConfigKeysOf(ClientConfig.class)
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    LoopbackClusterOptions cluster = new LoopbackClusterOptions(3, "1G", "64M", 1);

    @Mixin
    TransportOption transport;

    @Option(names = "--span", paramLabel = "SIZE", defaultValue = "256M", converter = Converters.Size.class,
            description = "Swap space of each engine (and of the bare reference): pages are chosen within it."
                    + " Default: ${DEFAULT-VALUE}.")
    ByteSize span;

    @Option(names = "--patterns", paramLabel = "P", split = ",", defaultValue = "seq,rand",
            description = "Access patterns, comma-separated: ${COMPLETION-CANDIDATES} (rand: uniform over the"
                    + " span). Default: ${DEFAULT-VALUE}.")
    List<Pattern> patterns;

    @Option(names = "--io", paramLabel = "OP", split = ",", defaultValue = "write,read",
            description = "Operations, comma-separated: ${COMPLETION-CANDIDATES}. Writes run before reads."
                    + " Default: ${DEFAULT-VALUE}.")
    List<Op> operations;

    @Option(names = "--depths", paramLabel = "N", split = ",", defaultValue = "1,32",
            description = "Queue depths (single-page operations in flight), comma-separated."
                    + " Default: ${DEFAULT-VALUE}.")
    List<Integer> depths;

    @Option(names = "--replicas", paramLabel = "N", split = ",", defaultValue = "1,2",
            description = "Copies of every slab (placement.numReplica), comma-separated; one engine each,"
                    + " at most --donors. Default: ${DEFAULT-VALUE}.")
    List<Integer> replicas;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "20000",
            description = "Measured operations per case (0: bounded by --duration only). Default: ${DEFAULT-VALUE}.")
    long ops;

    /** No picocli defaultValue: picocli would lay it over a value the hidden --seconds set. */
    @Option(names = "--duration", paramLabel = "DURATION", converter = Converters.Time.class,
            description = "Longest measured run per case, e.g. 10s or 500ms (0s: bounded by --ops only)."
                    + " Default: 10s.")
    Duration duration = Duration.ofSeconds(10);

    /** The flag before --duration: a bare number of seconds. Hidden; kept so that older scripts run on. */
    @Option(names = "--seconds", paramLabel = "S", hidden = true,
            description = "Old form of --duration: seconds as a bare number (--seconds 8 is --duration 8s).")
    void seconds(double value) {
        if (value < 0 || Double.isNaN(value) || Double.isInfinite(value)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be 0 or more, got "
                    + value);
        }
        duration = Duration.ofNanos(Math.round(value * 1e9));
    }

    @Option(names = "--warmup-ops", paramLabel = "N", defaultValue = "2000",
            description = "Operations run, not recorded, before each case (and once for every case in a warm-up"
                    + " round before the first; 0: no warm-up). Default: ${DEFAULT-VALUE}.")
    long warmupOps;

    @Option(names = "--reference", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also measure the bare-transport reference (--no-reference to skip it)."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean reference;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "2s",
            converter = Converters.Time.class,
            description = "How long connecting to a donor and its HELLO may take; slow machines (an emulated VM)"
                    + " need more. Default: ${DEFAULT-VALUE}.")
    @ConfigKey("connectTimeout")
    Duration connectTimeout;

    @Option(names = "--json", paramLabel = "FILE",
            description = "Also write every result, the configuration and the machine's facts to this JSON file;"
                    + " each case has allocated_bytes_per_op and a costs object (allocated_bytes_per_op,"
                    + " client_cpu_us_per_op, client_thread_cpu_us_per_op, donor_cpu_us_per_op,"
                    + " client_switches_per_op, donor_switches_per_op, frames_per_op and frames_per_flush over TCP,"
                    + " threads: per group allocated_bytes_per_op and"
                    + " cpu_us_per_op). Default: none.")
    Path json;

    @Option(names = "--encryption", paramLabel = "MODE", split = ",", defaultValue = "off",
            description = "Page encryption of the engines, a list: off, aes-256-gcm, or both (off,aes-256-gcm: each"
                    + " number of --replicas gets one engine per mode, in the same run, and the table shows each"
                    + " encrypted case against the same case in clear). The key is derived from the started donors'"
                    + " secret (docs/security.md). Default: ${DEFAULT-VALUE}.")
    List<String> encryption;

    private List<EncryptionMode> encryptionModes;

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    private static final int PAGE = FrameHeader.PAGE_SIZE;

    private long pageCount;
    private long slabBytes;

    @Override
    public Integer call() throws Exception {
        validate();
        String startedAt = Instant.now().toString();
        try (LoopbackDonors spawned = cluster.start("bench", false)) {
            EngineBench.Cluster donors = new EngineBench.Cluster(spawned.addresses(),
                    spawned.processes().stream().mapToLong(p -> p.pid()).toArray(),
                    r -> engineConfig(r, spawned.secret()), bareConfig(spawned.secret()));
            BenchResults results = new EngineBench(plan(), donors, this::bar, System.err).run();
            String title = String.format("bench: engine, %d donors on %s, transport %s, 4 KiB single-page operations",
                    cluster.donors, cluster.donorHost, transport.orDefault());
            BenchTable.print(spec.commandLine().getOut(), title, results);
            if (json != null) {
                writeJson(BenchReport.of(commandLine(), startedAt, config(), results));
                System.err.printf("results written to %s%n", json);
            }
            if (results.clean()) {
                spawned.succeeded();
            }
            return results.clean() ? 0 : ErrorReporter.EXIT_FAILURE;
        }
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        patterns = List.copyOf(new LinkedHashSet<>(patterns));
        operations = List.copyOf(new LinkedHashSet<>(operations));
        // Writes first, so that reading what was just written is the rule, not an accident of the order given.
        operations = operations.stream().sorted().toList();
        depths = List.copyOf(new LinkedHashSet<>(depths));
        replicas = List.copyOf(new LinkedHashSet<>(replicas));
        List<EncryptionMode> modes = new ArrayList<>();
        for (String m : new LinkedHashSet<>(encryption)) {
            try {
                modes.add(EncryptionMode.parse(m));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "--encryption: " + e.getMessage());
            }
        }
        encryptionModes = List.copyOf(modes);
        if (cluster.donors < 1) {
            throw new CommandLine.ParameterException(cl, "--donors must be at least 1, got " + cluster.donors);
        }
        for (int d : depths) {
            if (d < 1 || d > 4096) {
                throw new CommandLine.ParameterException(cl, "--depths: each depth must be 1 to 4096, got " + d);
            }
        }
        for (int r : replicas) {
            if (r < 1 || r > cluster.donors) {
                throw new CommandLine.ParameterException(cl, "--replicas: each must be 1 to --donors ("
                        + cluster.donors + "), got " + r);
            }
        }
        if (ops < 0 || warmupOps < 0 || duration.isNegative() || (ops == 0 && duration.isZero())) {
            throw new CommandLine.ParameterException(cl, "--ops, --warmup-ops and --duration must not be negative,"
                    + " and --ops and --duration not both 0");
        }
        long spanBytes = span.bytes();
        slabBytes = cluster.slabSize.bytes();
        if (spanBytes < PAGE || spanBytes % PAGE != 0 || slabBytes < PAGE || slabBytes % PAGE != 0) {
            throw new CommandLine.ParameterException(cl, "--span and --slab-size must be multiples of 4K");
        }
        pageCount = spanBytes / PAGE;
        if (pageCount > Integer.MAX_VALUE) {
            throw new CommandLine.ParameterException(cl, "--span " + span + " is too large");
        }
        for (int r : replicas) {
            engineConfig(r); // a flag that breaks a key's rule stops the bench before it starts anything
        }
    }

    /** An engine's configuration: the flags, then {@code more} (the started donors' secret). */
    private ClientConfig engineConfig(int numReplica, ConfigOverride... more) {
        List<ConfigOverride> flags = new ArrayList<>(ConfigFlags.given(this, transport));
        flags.addAll(List.of(
                new ConfigOverride("swapSpace", ByteSize.ofBytes(pageCount * PAGE), "--span"),
                new ConfigOverride("slabSize", ByteSize.ofBytes(slabBytes), "--slab-size"),
                new ConfigOverride("placement.numReplica", numReplica, "--replicas"),
                new ConfigOverride("placement.serverSelectNum", Math.max(numReplica, cluster.donors), "--replicas")));
        flags.addAll(List.of(more));
        return ConfigLoader.parse("valet bench", "identity: valet-bench-r" + numReplica + "\n", ClientConfig.class,
                flags);
    }

    /** The bare reference's connection: the transport and timeouts asked for, the donors' secret. */
    private ClientConfig bareConfig(ConfigOverride secret) {
        List<ConfigOverride> flags = new ArrayList<>(ConfigFlags.given(this, transport));
        flags.add(secret);
        return ConfigLoader.parse("valet bench", "", ClientConfig.class, flags);
    }

    private BenchPlan plan() {
        return new BenchPlan(pageCount, slabBytes, patterns, operations, depths, replicas, ops, durationSeconds(),
                warmupOps, reference, cluster.seed, encryptionModes);
    }

    private double durationSeconds() {
        return duration.toNanos() / 1e9;
    }

    /** A progress bar per phase of the benchmark (nothing drawn with --no-progress). */
    private BenchProgress.Phase bar(String task, long total) {
        ProgressBar bar = Progress.bar(task, total, noProgress);
        return new BenchProgress.Phase() {
            @Override
            public void step(long units) {
                bar.stepBy(units);
            }

            @Override
            public void close() {
                bar.close();
            }
        };
    }

    private BenchReport.Config config() {
        return new BenchReport.Config(cluster.donors, cluster.donorMemory.toString(), span.toString(),
                cluster.slabSize.toString(), patterns.stream().map(Enum::name).toList(),
                operations.stream().map(Enum::name).toList(), depths, replicas, ops, durationSeconds(), warmupOps,
                cluster.seed, PAGE, 1);
    }

    private String commandLine() {
        return "valet " + String.join(" ", spec.root().commandLine().getParseResult().originalArgs());
    }

    private void writeJson(BenchReport report) throws IOException {
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(json.toFile(), report);
    }
}
