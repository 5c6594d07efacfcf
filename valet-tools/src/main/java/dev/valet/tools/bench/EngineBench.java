package dev.valet.tools.bench;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.config.EncryptionMode;
import dev.valet.common.portal.DonorAddress;
import dev.valet.tools.bench.BenchPlan.Op;
import dev.valet.tools.bench.BenchPlan.Pattern;
import dev.valet.tools.workload.EngineLoad;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The benchmark behind {@code valet bench}: 4 KiB single-page latency and throughput of the engine, with a
 * bare-transport floor ({@link BareReference}). For each number of copies per slab, one fresh engine: its whole span
 * written once (prefill, not measured) so every read reads a written page; then every case's warm-up once (so the
 * JIT has compiled every path before anything is measured); then per case its warm-up again and a measured run
 * bounded by the plan's operations and seconds. Reads verify every page ({@link PageContents}).
 */
public final class EngineBench {
    static final int PREFILL_WINDOW = 16;
    static final int PREFILL_RUN_PAGES = 64;
    private static final long HISTOGRAM_MAX_MICROS = 3_600_000_000L;
    /** Operations per chunk when an engine case and its bare reference alternate. */
    private static final long INTERLEAVE_OPS = 1000;

    /**
     * The donors a benchmark runs against, and how to reach them.
     *
     * @param donors       where they listen; the reference uses the first
     * @param donorPids    their processes, whose CPU and context switches count in a case's costs
     * @param engineConfig the engine's configuration for a number of copies per slab (span, slab size, transport,
     *                     timeouts, the donors' secret)
     * @param bareConfig   the reference's configuration (transport, timeouts, the donors' secret)
     */
    public record Cluster(List<DonorAddress> donors, long[] donorPids, IntFunction<ClientConfig> engineConfig,
                          ClientConfig bareConfig) {
    }

    private final BenchPlan plan;
    private final Cluster cluster;
    private final BenchProgress progress;
    private final PrintStream log;
    private final BenchResults results = new BenchResults();

    /** {@code log} gets a line per prefill and per case as they end. */
    public EngineBench(BenchPlan plan, Cluster cluster, BenchProgress progress, PrintStream log) {
        this.plan = plan;
        this.cluster = cluster;
        this.progress = progress;
        this.log = log;
    }

    /** Runs every case of the plan. */
    public BenchResults run() throws Exception {
        SplittableRandom random = new SplittableRandom(plan.seed());
        BareReference bare = null;
        if (plan.measuresReference()) {
            bare = new BareReference(plan, cluster.bareConfig(), cluster.donors().get(0), random.split(), progress,
                    log);
        }
        try {
            if (bare != null) {
                results.addPrefill(bare.prepare());
            }
            for (int r : plan.replicas()) {
                for (EncryptionMode mode : plan.encryption()) {
                    // The reference beside the first mode's engine: its ratios stay one per case.
                    benchEngine(r, mode, mode == plan.encryption().get(0) ? bare : null, random);
                }
            }
        } finally {
            if (bare != null) {
                bare.close();
            }
        }
        return results;
    }

    static Histogram histogram() {
        return new Histogram(HISTOGRAM_MAX_MICROS, 3);
    }

    /** The name of an engine case's target: {@code engine}, or {@code engine aes-256-gcm} with encryption. */
    static String target(EncryptionMode mode) {
        return mode == EncryptionMode.OFF ? "engine" : "engine " + mode.configName();
    }

    private void benchEngine(int numReplica, EncryptionMode mode, BareReference bare, SplittableRandom random)
            throws Exception {
        List<DonorAddress> addresses = cluster.donors();
        String suffix = mode == EncryptionMode.OFF ? "" : " " + mode.configName();
        String target = "engine r" + numReplica + suffix;
        long pageCount = plan.pageCount();
        PageContents contents = new PageContents(pageCount, plan.seed());
        ClientConfig config = ConfigLoader.override(cluster.engineConfig().apply(numReplica),
                new ConfigOverride("encryption.mode", mode.configName(), "--encryption"));
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
                     BenchProgress.Phase bar = progress.start("prefill r" + numReplica, pageCount)) {
                    fill = load.write(EngineLoad.sequential(0, pageCount, runPages),
                            (page, buf, index) -> contents.fill(page, buf, index, gen), bar::step);
                }
                log.printf("%s: prefill of %d pages: %.0f pages/s, %d errors%n", target, pageCount,
                        fill.pagesPerSecond(), fill.failedPages());
                long roundErrors = warmupRound(engine, contents, random);
                results.addPrefill(new BenchResults.Prefill(target, numReplica, fill.pages(), fill.failedPages(),
                        fill.nanos() / 1e9, fill.pagesPerSecond(), roundErrors));
                for (Pattern pattern : plan.patterns()) {
                    for (Op op : plan.operations()) {
                        int writeGen = op == Op.write ? contents.nextGeneration() : 0;
                        int bareGen = op == Op.write && bare != null ? bare.contents.nextGeneration() : 0;
                        for (int depth : plan.depths()) {
                            engineCase(engine, mode, contents, random, pattern, op, depth, numReplica, writeGen,
                                    depth == 1 ? bare : null, bareGen);
                        }
                    }
                }
            } finally {
                freeSlabs(engine);
            }
        }
    }

    /** Every case's warm-up once, before any is measured. Returns the pages that failed. */
    private long warmupRound(Engine engine, PageContents contents, SplittableRandom random)
            throws InterruptedException {
        long errors = 0;
        if (plan.warmupOps() == 0) {
            return 0;
        }
        try (BenchProgress.Phase bar = progress.start("warm-up", plan.warmupOps() * plan.patterns().size()
                * plan.operations().size() * plan.depths().size())) {
            for (Op op : plan.operations()) {
                for (Pattern pattern : plan.patterns()) {
                    for (int depth : plan.depths()) {
                        int gen = contents.nextGeneration();
                        try (EngineLoad load = new EngineLoad(engine, depth, 1)) {
                            errors += engineRun(load, op, warmup(pattern, random), contents, gen, bar::step)
                                    .failedPages();
                        }
                    }
                }
            }
        }
        return errors;
    }

    /** EngineLoad has no count or time limit of its own: the run order ends the run (returns -1). */
    private static EngineLoad.Result engineRun(EngineLoad load, Op op, EngineLoad.RunOrder order,
                                               PageContents contents, int writeGen, LongConsumer step)
            throws InterruptedException {
        return op == Op.write
                ? load.write(order, (page, buf, index) -> contents.fill(page, buf, index, writeGen), step)
                : load.read(order, contents::check, step);
    }

    /**
     * One engine case. With {@code bare} (depth 1) the matching bare-transport case is measured alongside, in
     * alternating chunks of {@link #INTERLEAVE_OPS} operations, so that both see the same machine: on a shared
     * 2-core box the round-trip time drifts by a factor of two from minute to minute, which would swamp the ratio
     * if the two were measured minutes apart.
     */
    private void engineCase(Engine engine, EncryptionMode mode, PageContents contents, SplittableRandom random,
                            Pattern pattern, Op op, int depth, int numReplica, int writeGen, BareReference bare,
                            int bareGen) throws InterruptedException {
        String replicas = "r" + numReplica + (mode == EncryptionMode.OFF ? "" : " " + mode.configName());
        String label = label(pattern, op, depth, replicas) + (bare != null ? " + bare" : "");
        LongSupplier pages = PageOrders.pages(pattern, plan.pageCount(), random);
        LongSupplier barePages = bare != null ? PageOrders.pages(pattern, plan.pageCount(), bare.random) : null;
        long ops = plan.opsPerCase();
        CaseTally e = new CaseTally(ops, plan.secondsPerCase(), cluster.donorPids(), engine.wire());
        CaseTally b = bare != null
                ? new CaseTally(ops, plan.secondsPerCase(), cluster.donorPids(), bare.transport().wire()) : null;
        try (EngineLoad load = new EngineLoad(engine, depth, 1)) {
            if (plan.warmupOps() > 0) {
                e.errors += engineRun(load, op, warmup(pages), contents, writeGen, n -> { }).failedPages();
                if (b != null) {
                    b.errors += bare.run(op, warmup(barePages), bareGen, histogram(), n -> { });
                }
            }
            load.measure(e.costs);
            long chunk = b != null ? INTERLEAVE_OPS : 0;
            long total = ops > 0 ? ops * (b != null ? 2 : 1) : -1;
            try (BenchProgress.Phase bar = progress.start(label, total)) {
                while (e.wants() || (b != null && b.wants())) {
                    if (e.wants()) {
                        EngineLoad.Result r = engineRun(load, op, e.next(pages, chunk), contents, writeGen,
                                bar::step);
                        e.add(r.pages(), r.failedPages(), r.nanos(), r.latencyMicros());
                    }
                    if (b != null && b.wants()) {
                        Histogram h = histogram();
                        EngineLoad.RunOrder order = b.next(barePages, chunk);
                        b.costs.start();
                        long t0 = System.nanoTime();
                        long errors = bare.run(op, order, bareGen, h, bar::step);
                        long t1 = System.nanoTime();
                        b.costs.stop();
                        b.add(h.getTotalCount() - errors, errors, t1 - t0, h);
                    }
                }
            }
        }
        BenchResults.CaseResult c = e.result(target(mode), pattern, op, depth, numReplica, b != null ? "bare" : null);
        report(label(pattern, op, depth, replicas), c);
        results.addCase(c);
        if (b != null) {
            BenchResults.CaseResult r = b.result("bare", pattern, op, 1, 1, "engine r" + numReplica);
            report(label(pattern, op, 1, "bare (with r" + numReplica + ")"), r);
            results.addReference(r);
            results.addRatio(BenchResults.Ratio.of(c, r));
        }
    }

    /** A warm-up of fresh {@code pattern} pages: the plan's warm-up operations, within a case's time. */
    private EngineLoad.RunOrder warmup(Pattern pattern, SplittableRandom random) {
        return warmup(PageOrders.pages(pattern, plan.pageCount(), random));
    }

    /** A warm-up that goes on with {@code pages}, which the measured run then continues. */
    private EngineLoad.RunOrder warmup(LongSupplier pages) {
        return PageOrders.bounded(pages, plan.warmupOps(), plan.secondsPerCase());
    }

    /** Gives the donors their memory back before the next engine (Engine has no call for it; its connections do). */
    private void freeSlabs(Engine engine) {
        List<CompletableFuture<Void>> frees = new ArrayList<>();
        for (RemoteDonor d : engine.donors()) {
            DonorConnection c = d.connection();
            if (c == null || !c.isOpen()) {
                continue;
            }
            for (Long slabId : List.copyOf(d.placedSlabs())) {
                frees.add(c.freeSlab(slabId).exceptionally(x -> null));
            }
        }
        try {
            CompletableFuture.allOf(frees.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception x) {
            log.printf("could not free every slab of the engine: %s%n", x);
        }
    }

    private static String label(Pattern pattern, Op op, int depth, String target) {
        return pattern + " " + op + " d" + depth + " " + target;
    }

    private void report(String label, BenchResults.CaseResult c) {
        log.printf("%s: %d ops in %.1f s, %.0f ops/s, p50 %d us, p99 %d us, p99.9 %d us, %d errors, %.0f B/op"
                        + " allocated, client %.1f us/op CPU, donors %.1f us/op CPU%n", label, c.ops(), c.seconds(),
                c.opsPerSecond(), c.p50Us(), c.p99Us(), c.p999Us(), c.errors(), c.costs().allocatedBytesPerOp(),
                c.costs().clientCpuUsPerOp(), c.costs().donorCpuUsPerOp());
    }
}
