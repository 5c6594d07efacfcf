package dev.valet.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.client.check.PagePattern;
import dev.valet.client.engine.Engine;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.WireCounters;
import dev.valet.client.workload.EngineLoad;
import dev.valet.client.workload.ThreadCosts;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import me.tongfei.progressbar.ProgressBar;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/** {@code valet bench}: single-page latency and throughput of the engine on loopback, with a bare-transport floor. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {
            "Start donors on loopback (separate processes) and measure 4 KiB single-page operations through the"
                    + " engine for every combination of pattern (seq, rand) x operation (write, read) x queue depth"
                    + " x copies per slab (numReplica): one fresh engine per numReplica value, its whole span"
                    + " written once first (prefill, not measured) so every read reads a written page; then every"
                    + " case's warm-up once (so the JIT has compiled every path before anything is measured); then"
                    + " per case its warm-up again and a measured run bounded by --ops and --seconds. Reads verify"
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
    /** Access pattern: consecutive pages, or uniformly random pages of the span. */
    enum Pattern { seq, rand }

    /** What one operation does. */
    enum Op { write, read }

    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final int PREFILL_WINDOW = 16;
    private static final int PREFILL_RUN_PAGES = 64;
    private static final long HISTOGRAM_MAX_MICROS = 3_600_000_000L;
    /** Operations per chunk when an engine case and its bare reference alternate. */
    private static final long INTERLEAVE_OPS = 1000;
    /** The progress bar's drawing thread (me.tongfei.progressbar): display, not I/O, so left out of B/op. */
    static final String PROGRESS_THREAD = "ProgressBar";

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
            description = "Measured operations per case (0: bounded by --seconds only). Default: ${DEFAULT-VALUE}.")
    long ops;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "10",
            description = "Longest measured run per case, seconds (0: bounded by --ops only)."
                    + " Default: ${DEFAULT-VALUE}.")
    double seconds;

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

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    /**
     * One measured case. Latencies in microseconds; {@code errors} includes the warm-up's. {@code interleavedWith}:
     * the case measured in alternating chunks with this one (engine depth 1 with bare, and back), or null.
     */
    record CaseResult(String target, String pattern, String op, int depth, int replicas, String interleavedWith,
                      long ops, long errors,
                      double seconds, double opsPerSecond, long p50Us, long p99Us, long p999Us, long maxUs,
                      double meanUs, Costs costs) {
        @JsonProperty("allocated_bytes_per_op")
        double allocatedBytesPerOp() {
            return costs.allocatedBytesPerOp();
        }
    }

    /**
     * What a case's measured operations cost, per operation (issue 13's instruments, {@link ThreadCosts}): heap
     * bytes allocated by the bench JVM's threads (all but the progress bar's), the JVM's CPU (threads, GC and JIT),
     * the donor processes' CPU (/proc, 10 ms resolution), voluntary context switches of each side (a thread
     * going to sleep for want of work: the hand-offs), and per thread group
     * its allocations and CPU. Threads that started and ended within a case are not counted.
     */
    record Costs(@JsonProperty("allocated_bytes_per_op") double allocatedBytesPerOp,
                 @JsonProperty("client_cpu_us_per_op") double clientCpuUsPerOp,
                 @JsonProperty("client_thread_cpu_us_per_op") double clientThreadCpuUsPerOp,
                 @JsonProperty("donor_cpu_us_per_op") double donorCpuUsPerOp,
                 @JsonProperty("client_switches_per_op") double clientSwitchesPerOp,
                 @JsonProperty("donor_switches_per_op") double donorSwitchesPerOp,
                 @JsonProperty("frames_per_op") double framesPerOp,
                 @JsonProperty("frames_per_flush") double framesPerFlush,
                 @JsonProperty("threads") List<GroupCost> threads) {
        static Costs of(ThreadCosts.Totals t, long ops) {
            double n = Math.max(ops, 1);
            long drawn = t.groups().stream().filter(g -> g.name().equals(PROGRESS_THREAD))
                    .mapToLong(ThreadCosts.Group::allocatedBytes).sum();
            return new Costs(round((t.allocatedBytes() - drawn) / n), round(t.processCpuNanos() / 1e3 / n),
                    round(t.threadCpuNanos() / 1e3 / n), round(t.otherCpuNanos() / 1e3 / n),
                    round(t.switches() / n), round(t.otherSwitches() / n), round(t.frames() / n),
                    round(t.flushes() == 0 ? 0 : (double) t.frames() / t.flushes()),
                    t.groups().stream().filter(g -> g.cpuNanos() > 0 || g.allocatedBytes() > 0)
                            .map(g -> new GroupCost(g.name(), g.threads(), round(g.allocatedBytes() / n),
                                    round(g.cpuNanos() / 1e3 / n))).toList());
        }

        private static double round(double x) {
            return Math.round(x * 100) / 100.0;
        }
    }

    /** One thread group's share of a case (name without trailing numbers), per operation. */
    record GroupCost(@JsonProperty("group") String group, @JsonProperty("threads") int threads,
                     @JsonProperty("allocated_bytes_per_op") double allocatedBytesPerOp,
                     @JsonProperty("cpu_us_per_op") double cpuUsPerOp) {
    }

    /**
     * The whole-span write before an engine's (or the reference's) cases, and the errors of the warm-up round that
     * follows it (every case's warm-up once, so the JIT has compiled every path before the first measured case).
     */
    record Prefill(String target, int replicas, long pages, long errors, double seconds, double pagesPerSecond,
                   long warmupRoundErrors) {
    }

    /** An engine case at depth 1 over the bare reference of the same pattern and operation. */
    record Ratio(String pattern, String op, int replicas, double opsPerSecond, double p50, double p99,
                 double p999) {
    }

    record Machine(int cores, String cpu, String javaVersion, String javaVm, String os, String arch,
                   String nettyTransport, String network) {
    }

    record Config(int donors, String donorMemory, String span, String slabSize, List<String> patterns,
                  List<String> operations, List<Integer> depths, List<Integer> replicas, long opsPerCase,
                  double secondsPerCase, long warmupOps, long seed, int pageBytes, int runPages) {
    }

    record Report(String command, String startedAt, Machine machine, Config config, List<Prefill> prefill,
                  List<CaseResult> cases, List<CaseResult> reference, List<Ratio> ratios, boolean clean) {
    }

    private long pageCount;
    private long slabBytes;
    /** The donors of this run; every connection proves their cluster secret. */
    private LoopbackDonors spawned;
    private final List<CaseResult> cases = new ArrayList<>();
    private final List<CaseResult> bare = new ArrayList<>();
    private final List<Ratio> ratios = new ArrayList<>();
    private final List<Prefill> prefills = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        validate();
        String startedAt = Instant.now().toString();
        try (LoopbackDonors spawned = cluster.start("bench", false)) {
            this.spawned = spawned;
            List<DonorAddress> addresses = spawned.addresses();
            SplittableRandom random = new SplittableRandom(cluster.seed);
            Bare bareRef = null;
            if (reference && depths.contains(1)) {
                bareRef = new Bare(addresses.get(0), random.split());
            }
            try {
                if (bareRef != null) {
                    bareRef.prepare();
                }
                for (int r : replicas) {
                    benchEngine(r, addresses, bareRef, random);
                }
            } finally {
                if (bareRef != null) {
                    bareRef.close();
                }
            }
            boolean clean = cases.stream().allMatch(c -> c.errors() == 0)
                    && bare.stream().allMatch(c -> c.errors() == 0)
                    && prefills.stream().allMatch(p -> p.errors() == 0 && p.warmupRoundErrors() == 0);
            print();
            if (json != null) {
                writeJson(new Report(commandLine(), startedAt, machine(), config(), prefills, cases, bare, ratios,
                        clean));
                say("results written to %s", json);
            }
            if (clean) {
                spawned.succeeded();
            }
            return clean ? 0 : ErrorReporter.EXIT_FAILURE;
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
                throw new CommandLine.ParameterException(cl, "--replicas: each must be 1 to --donors (" + cluster.donors
                        + "), got " + r);
            }
        }
        if (ops < 0 || warmupOps < 0 || seconds < 0 || (ops == 0 && seconds == 0)) {
            throw new CommandLine.ParameterException(cl, "--ops, --warmup-ops and --seconds must not be negative,"
                    + " and --ops and --seconds not both 0");
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

    // ---------------------------------------------------------------------------------------------------- engine

    /** The engine's configuration: the flags, then {@code more} (the started donors' secret). */
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

    private void benchEngine(int numReplica, List<DonorAddress> addresses, Bare bareRef, SplittableRandom random)
            throws Exception {
        ClientConfig config = engineConfig(numReplica, spawned.secret());
        String target = "engine r" + numReplica;
        PageContents contents = new PageContents(pageCount, cluster.seed);
        try (Engine engine = Engine.start(config, addresses)) {
            int live = engine.stats().liveDonors();
            if (live < addresses.size()) {
                throw new IllegalStateException("only " + live + " of " + addresses.size() + " donors answered the"
                        + " engine");
            }
            try {
                // Every page written once, in big runs, so reads read written pages and writes overwrite mapped slabs.
                int runPages = Math.min(PREFILL_RUN_PAGES, engine.pagesPerRequest());
                int gen = contents.nextGeneration();
                EngineLoad.Result fill;
                try (EngineLoad load = new EngineLoad(engine, PREFILL_WINDOW, runPages);
                     ProgressBar bar = Progress.bar("prefill r" + numReplica, pageCount, noProgress)) {
                    fill = load.write(EngineLoad.sequential(0, pageCount, runPages),
                            (page, buf, index) -> contents.fill(page, buf, index, gen), bar::stepBy);
                }
                say("%s: prefill of %d pages: %.0f pages/s, %d errors", target, pageCount, fill.pagesPerSecond(),
                        fill.failedPages());
                long roundErrors = engineWarmupRound(engine, contents, random);
                prefills.add(new Prefill(target, numReplica, fill.pages(), fill.failedPages(), fill.nanos() / 1e9,
                        fill.pagesPerSecond(), roundErrors));
                for (Pattern pattern : patterns) {
                    for (Op op : operations) {
                        int writeGen = op == Op.write ? contents.nextGeneration() : 0;
                        int bareGen = op == Op.write && bareRef != null ? bareRef.contents.nextGeneration() : 0;
                        for (int depth : depths) {
                            engineCase(engine, contents, random, pattern, op, depth, numReplica, writeGen,
                                    depth == 1 ? bareRef : null, bareGen);
                        }
                    }
                }
            } finally {
                freeSlabs(engine);
            }
        }
    }

    /** Every case's warm-up once, before any is measured. Returns the pages that failed. */
    private long engineWarmupRound(Engine engine, PageContents contents, SplittableRandom random)
            throws InterruptedException {
        long errors = 0;
        if (warmupOps == 0) {
            return 0;
        }
        try (ProgressBar bar = Progress.bar("warm-up", warmupOps * patterns.size() * operations.size()
                * depths.size(), noProgress)) {
            for (Op op : operations) {
                for (Pattern pattern : patterns) {
                    for (int depth : depths) {
                        int gen = contents.nextGeneration();
                        try (EngineLoad load = new EngineLoad(engine, depth, 1)) {
                            errors += engineRun(load, op, bounded(pages(pattern, random), warmupOps, seconds),
                                    contents, gen, bar::stepBy).failedPages();
                        }
                    }
                }
            }
        }
        return errors;
    }

    /** EngineLoad has no count or time limit of its own: the run order ends the run (returns -1). */
    private static EngineLoad.Result engineRun(EngineLoad load, Op op, EngineLoad.RunOrder order,
                                               PageContents contents, int writeGen, LongConsumer progress)
            throws InterruptedException {
        return op == Op.write
                ? load.write(order, (page, buf, index) -> contents.fill(page, buf, index, writeGen), progress)
                : load.read(order, contents::check, progress);
    }

    /**
     * One engine case. With {@code bareRef} (depth 1) the matching bare-transport case is measured alongside, in
     * alternating chunks of {@link #INTERLEAVE_OPS} operations, so that both see the same machine: on a shared
     * 2-core box the round-trip time drifts by a factor of two from minute to minute, which would swamp the ratio
     * if the two were measured minutes apart.
     */
    private void engineCase(Engine engine, PageContents contents, SplittableRandom random, Pattern pattern, Op op,
                            int depth, int numReplica, int writeGen, Bare bareRef, int bareGen)
            throws InterruptedException {
        String label = label(pattern, op, depth, "r" + numReplica) + (bareRef != null ? " + bare" : "");
        LongSupplier pages = pages(pattern, random);
        LongSupplier barePages = bareRef != null ? pages(pattern, bareRef.random) : null;
        Tally e = new Tally(donorPids(), engine.wire());
        Tally b = bareRef != null ? new Tally(donorPids(), bareRef.transport.wire()) : null;
        try (EngineLoad load = new EngineLoad(engine, depth, 1)) {
            if (warmupOps > 0) {
                e.errors += engineRun(load, op, bounded(pages, warmupOps, seconds), contents, writeGen, n -> { })
                        .failedPages();
                if (b != null) {
                    b.errors += bareRef.run(op, bounded(barePages, warmupOps, seconds), bareGen,
                            new Histogram(HISTOGRAM_MAX_MICROS, 3), n -> { });
                }
            }
            load.measure(e.costs);
            long chunk = b != null ? INTERLEAVE_OPS : 0;
            long total = ops > 0 ? ops * (b != null ? 2 : 1) : -1;
            try (ProgressBar bar = Progress.bar(label, total, noProgress)) {
                while (e.wants() || (b != null && b.wants())) {
                    if (e.wants()) {
                        EngineLoad.Result r = engineRun(load, op, e.next(pages, chunk), contents, writeGen,
                                bar::stepBy);
                        e.add(r.pages(), r.failedPages(), r.nanos(), r.latencyMicros());
                    }
                    if (b != null && b.wants()) {
                        Histogram h = new Histogram(HISTOGRAM_MAX_MICROS, 3);
                        EngineLoad.RunOrder order = b.next(barePages, chunk);
                        b.costs.start();
                        long t0 = System.nanoTime();
                        long errors = bareRef.run(op, order, bareGen, h, bar::stepBy);
                        long t1 = System.nanoTime();
                        b.costs.stop();
                        b.add(h.getTotalCount() - errors, errors, t1 - t0, h);
                    }
                }
            }
        }
        CaseResult c = e.result("engine", pattern, op, depth, numReplica, b != null ? "bare" : null);
        report(label(pattern, op, depth, "r" + numReplica), c);
        cases.add(c);
        if (b != null) {
            CaseResult r = b.result("bare", pattern, op, 1, 1, "engine r" + numReplica);
            report(label(pattern, op, 1, "bare (with r" + numReplica + ")"), r);
            bare.add(r);
            ratios.add(new Ratio(pattern.name(), op.name(), numReplica, ratio(c.opsPerSecond(), r.opsPerSecond()),
                    ratio(c.p50Us(), r.p50Us()), ratio(c.p99Us(), r.p99Us()), ratio(c.p999Us(), r.p999Us())));
        }
    }

    /** A case's measured runs so far, and what is left of its --ops and --seconds. */
    private final class Tally {
        final Histogram latency = new Histogram(HISTOGRAM_MAX_MICROS, 3);
        /** Counted around the measured runs only (not the warm-up, not the other side's chunks). */
        final ThreadCosts costs;
        long good;
        long errors;
        long issued;
        long nanos;

        Tally(long[] donorPids, WireCounters wire) {
            this.costs = new ThreadCosts(donorPids).countWire(wire);
        }

        boolean wants() {
            return (ops == 0 || issued < ops) && (seconds == 0 || nanos < seconds * 1e9 - 1e6);
        }

        /** The next run: {@code chunk} operations (0: all that is left), within the time that is left. */
        EngineLoad.RunOrder next(LongSupplier pages, long chunk) {
            long count = ops == 0 ? chunk : chunk == 0 ? ops - issued : Math.min(chunk, ops - issued);
            return bounded(pages, count, seconds == 0 ? 0 : seconds - nanos / 1e9);
        }

        void add(long goodOps, long failedOps, long runNanos, Histogram runLatency) {
            good += goodOps;
            issued += goodOps + failedOps;
            errors += failedOps;
            nanos += runNanos;
            latency.add(runLatency);
        }

        CaseResult result(String target, Pattern pattern, Op op, int depth, int numReplica, String with) {
            Histogram h = latency;
            return new CaseResult(target, pattern.name(), op.name(), depth, numReplica, with, good, errors,
                    nanos / 1e9, nanos == 0 ? 0 : good * 1e9 / nanos, h.getValueAtPercentile(50),
                    h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(),
                    h.getTotalCount() == 0 ? 0 : h.getMean(), Costs.of(costs.totals(), good + errors));
        }
    }

    private long[] donorPids() {
        return spawned.processes().stream().mapToLong(p -> p.pid()).toArray();
    }

    /** Gives the donors their memory back before the next engine (Engine has no call for it; its connections do). */
    private static void freeSlabs(Engine engine) {
        List<CompletableFuture<Void>> frees = new ArrayList<>();
        for (RemoteDonor d : engine.donors()) {
            DonorConnection c = d.connection();
            if (c == null || !c.isOpen()) {
                continue;
            }
            for (Long slabId : List.copyOf(d.placedSlabs())) {
                frees.add(c.freeSlab(slabId).exceptionally(e -> null));
            }
        }
        try {
            CompletableFuture.allOf(frees.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            say("could not free every slab of the engine: %s", e);
        }
    }

    // ------------------------------------------------------------------------------------------- bare reference

    /**
     * The floor: the same single-page writes and reads at depth 1 over one {@link DonorConnection} to one donor
     * (its own slabs, under its own identity), with what any client must do anyway (fill the page, CRC32C it, copy
     * it into the frame; check what comes back) and nothing else: no slab map, no versions kept, no copies, no
     * placement, no health checks. Opened once, before the engines, and measured alongside each.
     */
    private final class Bare implements AutoCloseable {
        final PageContents contents = new PageContents(pageCount, cluster.seed);
        final SplittableRandom random;
        private final DonorTransport transport;
        private final DonorConnection connection;
        private final long pagesPerSlab = slabBytes / PAGE;
        private final long slabs = (pageCount + pagesPerSlab - 1) / pagesPerSlab;
        private final ByteBuf scratch = Unpooled.directBuffer(PAGE);
        private long version;

        Bare(DonorAddress donor, SplittableRandom random) {
            this.random = random;
            List<ConfigOverride> flags = new ArrayList<>(ConfigFlags.given(BenchCommand.this,
                    BenchCommand.this.transport));
            flags.add(spawned.secret());
            this.transport = Connections.transport(ConfigLoader.parse("valet bench", "", ClientConfig.class, flags));
            try {
                this.connection = Connections.openAll(transport, List.of(donor), "valet-bench-bare").get(0);
            } catch (RuntimeException e) {
                transport.close();
                scratch.release();
                throw e;
            }
        }

        /** Allocates the slabs, writes every page once, then runs every case's warm-up once. */
        void prepare() throws InterruptedException {
            List<CompletableFuture<Void>> allocs = new ArrayList<>();
            for (long s = 0; s < slabs; s++) {
                allocs.add(connection.allocateSlab(s, slabBytes));
            }
            CompletableFuture.allOf(allocs.toArray(CompletableFuture[]::new)).join();
            int gen = contents.nextGeneration();
            int perRequest = Math.min(PREFILL_RUN_PAGES, connection.maxPagesPerRequest());
            Semaphore window = new Semaphore(PREFILL_WINDOW);
            AtomicLong done = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            long t0 = System.nanoTime();
            try (ProgressBar bar = Progress.bar("prefill bare", pageCount, noProgress)) {
                long page = 0;
                while (page < pageCount) {
                    long slab = page / pagesPerSlab;
                    long first = page;
                    int n = (int) Math.min(perRequest, Math.min(pageCount, (slab + 1) * pagesPerSlab) - page);
                    window.acquire();
                    connection.writePages(slab, n, encoder -> {
                        for (int i = 0; i < n; i++) {
                            contents.fill(first + i, scratch, 0, gen);
                            encoder.add((first + i) % pagesPerSlab, ++version, PageChecksum.crc32c(scratch, 0),
                                    scratch, 0);
                        }
                    }).whenComplete((ok, err) -> {
                        (err == null ? done : failed).addAndGet(n);
                        bar.stepBy(n);
                        window.release();
                    });
                    page += n;
                }
                window.acquire(PREFILL_WINDOW);
                window.release(PREFILL_WINDOW);
            }
            long nanos = System.nanoTime() - t0;
            say("bare: prefill of %d pages: %.0f pages/s, %d errors", pageCount, done.get() * 1e9 / nanos,
                    failed.get());
            long roundErrors = 0;
            if (warmupOps > 0) {
                for (Op op : operations) {
                    for (Pattern pattern : patterns) {
                        roundErrors += run(op, bounded(pages(pattern, random), warmupOps, seconds),
                                contents.nextGeneration(), new Histogram(HISTOGRAM_MAX_MICROS, 3), n -> { });
                    }
                }
            }
            prefills.add(new Prefill("bare", 1, done.get(), failed.get(), nanos / 1e9, done.get() * 1e9 / nanos,
                    roundErrors));
        }

        /** One operation at a time until {@code order} ends; returns the pages that failed or read back wrong. */
        long run(Op op, EngineLoad.RunOrder order, int writeGen, Histogram latency, LongConsumer progress) {
            long errors = 0;
            long page;
            while ((page = order.next()) >= 0) {
                long slab = page / pagesPerSlab;
                long index = page % pagesPerSlab;
                boolean ok;
                if (op == Op.write) {
                    contents.fill(page, scratch, 0, writeGen);
                    long v = ++version;
                    long t0 = System.nanoTime();
                    ok = connection.writePages(slab, 1,
                                    encoder -> encoder.add(index, v, PageChecksum.crc32c(scratch, 0), scratch, 0))
                            .handle((r, err) -> {
                                record(latency, t0);
                                return err == null;
                            }).join();
                } else {
                    long p = page;
                    long t0 = System.nanoTime();
                    ok = connection.readPages(slab, new long[] {index}, 1).handle((received, err) -> {
                        record(latency, t0);
                        if (err != null) {
                            return false;
                        }
                        try (ReceivedPages r = received) {
                            PageBatch b = r.pages();
                            return b.count() == 1 && b.pageIndex(0) == index
                                    && contents.check(p, b.buffer(), b.dataIndex(0));
                        }
                    }).join();
                }
                if (!ok) {
                    errors++;
                }
                progress.accept(1);
            }
            return errors;
        }

        @Override
        public void close() {
            try {
                List<CompletableFuture<Void>> frees = new ArrayList<>();
                for (long s = 0; s < slabs; s++) {
                    frees.add(connection.freeSlab(s).exceptionally(e -> null));
                }
                CompletableFuture.allOf(frees.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                say("could not free the reference's slabs: %s", e);
            } finally {
                connection.close();
                transport.close();
                scratch.release();
            }
        }
    }

    private static void record(Histogram latency, long t0) {
        long micros = (System.nanoTime() - t0) / 1000;
        latency.recordValue(Math.min(micros, latency.getHighestTrackableValue()));
    }

    // ------------------------------------------------------------------------------------------------- workload

    /**
     * What the pages hold: one fixed random body (from {@link PagePattern}) with the page number and the
     * generation of its last write stamped in its first 16 and last 8 bytes. A reader checks the stamps against
     * the generation it knows each page last got, and the body: a page from elsewhere, an older write or torn data
     * all fail. Filling is a 4 KiB copy; checking a 4 KiB compare.
     */
    static final class PageContents {
        private final byte[] body = new byte[PAGE];
        private final ByteBuf bodyBuf;
        private final int[] generation;
        private final long key;
        private int lastGeneration;

        PageContents(long pages, long seed) {
            PagePattern.fill(body, seed, 0, 0, 0);
            this.bodyBuf = Unpooled.wrappedBuffer(body);
            this.generation = new int[(int) pages];
            this.key = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        }

        int nextGeneration() {
            return ++lastGeneration;
        }

        /** Called on the submitting thread, in submission order; writes of one case share a generation. */
        void fill(long page, ByteBuf buf, int index, int gen) {
            generation[(int) page] = gen;
            buf.setBytes(index, body);
            buf.setLong(index, page ^ key);
            buf.setLong(index + 8, gen);
            buf.setLong(index + PAGE - 8, (page * 31 + gen) ^ key);
        }

        boolean check(long page, ByteBuf buf, int index) {
            int gen = generation[(int) page];
            return buf.getLong(index) == (page ^ key) && buf.getLong(index + 8) == gen
                    && buf.getLong(index + PAGE - 8) == ((page * 31 + gen) ^ key)
                    && sameBody(buf, index);
        }

        /** Bytes 16 .. 4088 against the body (not ByteBufUtil.equals: it looks at writerIndex, not capacity). */
        private boolean sameBody(ByteBuf buf, int index) {
            for (int i = 16; i < PAGE - 8; i += 8) {
                if (buf.getLong(index + i) != bodyBuf.getLong(i)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Page numbers of a pattern: seq from 0 (wrapping at the end of the span), rand uniform over the span. */
    private LongSupplier pages(Pattern pattern, SplittableRandom random) {
        long n = pageCount;
        if (pattern == Pattern.rand) {
            return () -> random.nextLong(n);
        }
        long[] next = {0};
        return () -> {
            long p = next[0];
            next[0] = p + 1 == n ? 0 : p + 1;
            return p;
        };
    }

    /** At most {@code count} pages (0: no limit) and none after {@code limitSeconds} (0: no limit). */
    private static EngineLoad.RunOrder bounded(LongSupplier pages, long count, double limitSeconds) {
        long deadline = limitSeconds > 0 ? System.nanoTime() + (long) (limitSeconds * 1e9) : Long.MAX_VALUE;
        long max = count > 0 ? count : Long.MAX_VALUE;
        long[] issued = {0};
        return () -> {
            if (issued[0] >= max || System.nanoTime() >= deadline) {
                return -1;
            }
            issued[0]++;
            return pages.getAsLong();
        };
    }

    // ------------------------------------------------------------------------------------------------ reporting

    private static String label(Pattern pattern, Op op, int depth, String target) {
        return pattern + " " + op + " d" + depth + " " + target;
    }

    private static void report(String label, CaseResult c) {
        say("%s: %d ops in %.1f s, %.0f ops/s, p50 %d us, p99 %d us, p99.9 %d us, %d errors, %.0f B/op allocated,"
                        + " client %.1f us/op CPU, donors %.1f us/op CPU", label, c.ops(), c.seconds(), c.opsPerSecond(),
                c.p50Us(), c.p99Us(), c.p999Us(), c.errors(), c.costs().allocatedBytesPerOp(),
                c.costs().clientCpuUsPerOp(), c.costs().donorCpuUsPerOp());
    }

    private static double ratio(double a, double b) {
        return b == 0 ? 0 : Math.round(a / b * 100) / 100.0;
    }

    private void print() {
        PrintWriter out = spec.commandLine().getOut();
        String row = "%-8s %-6s %6s %9s %12s %9s %9s %9s %7s %9s %10s %10s%n";
        out.printf("%nbench: engine, %d donors on %s, transport %s, 4 KiB single-page operations%n", cluster.donors,
                cluster.donorHost, transport.orDefault());
        out.printf(row, "pattern", "op", "depth", "replicas", "ops/s", "p50_us", "p99_us", "p99.9_us", "errors",
                "alloc_B", "client_us", "donors_us");
        for (CaseResult c : cases) {
            out.printf(row, c.pattern(), c.op(), c.depth(), c.replicas(), String.format(Locale.ROOT, "%.0f",
                    c.opsPerSecond()), c.p50Us(), c.p99Us(), c.p999Us(), c.errors(), perOp(c.allocatedBytesPerOp()),
                    perOp(c.costs().clientCpuUsPerOp()), perOp(c.costs().donorCpuUsPerOp()));
        }
        out.printf("(per operation: alloc_B heap bytes allocated by the bench JVM's threads; client_us CPU of the"
                + " bench JVM, GC and JIT included; donors_us CPU of the donor processes)%n");
        if (!bare.isEmpty()) {
            out.printf("%nreference: bare DonorConnection to one donor (no engine), depth 1, measured in"
                    + " alternating chunks with the engine case at depth 1 of the replicas shown%n");
            out.printf(row, "pattern", "op", "depth", "with", "ops/s", "p50_us", "p99_us", "p99.9_us", "errors",
                    "alloc_B", "client_us", "donors_us");
            for (CaseResult c : bare) {
                out.printf(row, c.pattern(), c.op(), c.depth(), c.interleavedWith().replace("engine ", ""),
                        String.format(Locale.ROOT, "%.0f",
                        c.opsPerSecond()), c.p50Us(), c.p99Us(), c.p999Us(), c.errors(),
                        perOp(c.allocatedBytesPerOp()), perOp(c.costs().clientCpuUsPerOp()),
                        perOp(c.costs().donorCpuUsPerOp()));
            }
        }
        out.printf("%nwhere the client's time and allocations go, per operation: thread group (name without its"
                + " numbers) us CPU / bytes allocated; voluntary context switches (hand-offs) per operation; request"
                + " frames per operation and per flush that reached the socket (TCP)%n");
        List<CaseResult> all = new ArrayList<>(cases);
        all.addAll(bare);
        for (CaseResult c : all) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-4s %-5s d%-3d %-11s",
                    c.pattern(), c.op(), c.depth(), c.target().equals("bare") ? "bare" : "r" + c.replicas()));
            for (GroupCost g : c.costs().threads()) {
                if (g.cpuUsPerOp() >= 0.05 || g.allocatedBytesPerOp() >= 1) {
                    line.append(String.format(Locale.ROOT, "  %s %.1f/%.0f", g.group(), g.cpuUsPerOp(),
                            g.allocatedBytesPerOp()));
                }
            }
            line.append(String.format(Locale.ROOT, "  | GC+JIT+VM %.1f us | switches client %.2f donors %.2f"
                            + " | frames/op %.2f, frames/flush %.2f",
                    c.costs().clientCpuUsPerOp() - c.costs().clientThreadCpuUsPerOp(),
                    c.costs().clientSwitchesPerOp(), c.costs().donorSwitchesPerOp(), c.costs().framesPerOp(),
                    c.costs().framesPerFlush()));
            out.println(line);
        }
        if (!ratios.isEmpty()) {
            String r = "%-8s %-6s %9s %9s %9s %9s %9s%n";
            out.printf("%nengine vs bare transport, depth 1 (engine / bare: ops/s below 1 and latency above 1"
                    + " are the engine's cost)%n");
            out.printf(r, "pattern", "op", "replicas", "ops/s", "p50", "p99", "p99.9");
            for (Ratio x : ratios) {
                out.printf(r, x.pattern(), x.op(), x.replicas(), times(x.opsPerSecond()), times(x.p50()),
                        times(x.p99()), times(x.p999()));
            }
        }
        out.flush();
    }

    private static String perOp(double x) {
        return String.format(Locale.ROOT, x < 100 ? "%.1f" : "%.0f", x);
    }

    private static String times(double x) {
        return String.format(Locale.ROOT, "%.2fx", x);
    }

    private Machine machine() {
        return new Machine(Runtime.getRuntime().availableProcessors(), cpuModel(), System.getProperty("java.version"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version"), System.getProperty("os.arch"),
                NettyTransport.select().toString(),
                "loopback TCP (127.0.0.1); client and donors on the same machine");
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or not readable: the model is a nicety.
        }
        return "unknown";
    }

    private Config config() {
        return new Config(cluster.donors, cluster.donorMemory.toString(), span.toString(),
                cluster.slabSize.toString(), patterns.stream().map(Enum::name).toList(),
                operations.stream().map(Enum::name).toList(), depths, replicas, ops, seconds, warmupOps, cluster.seed,
                PAGE, 1);
    }

    private String commandLine() {
        return "valet " + String.join(" ", spec.root().commandLine().getParseResult().originalArgs());
    }

    private void writeJson(Report report) throws IOException {
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(json.toFile(), report);
    }

    private static void say(String format, Object... args) {
        System.err.printf(format + "%n", args);
    }
}
