package dev.valet.tools.bench;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.client.transport.Transports;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.tools.workload.EngineLoad;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The floor the engine is measured against: the same single-page writes and reads at depth 1 over one
 * {@link DonorConnection} to one donor (its own slabs, under its own identity), with what any client must do anyway
 * (fill the page, CRC32C it, copy it into the frame; check what comes back) and nothing else: no slab map, no
 * versions kept, no copies, no placement, no health checks. Opened once, before the engines, and measured beside
 * each engine's depth-1 cases.
 */
final class BareReference implements AutoCloseable {
    private static final int PAGE = FrameHeader.PAGE_SIZE;

    final PageContents contents;
    final SplittableRandom random;
    private final BenchPlan plan;
    private final BenchProgress progress;
    private final PrintStream log;
    private final DonorTransport transport;
    private final DonorConnection connection;
    private final long pagesPerSlab;
    private final long slabs;
    private final ByteBuf scratch = Unpooled.directBuffer(PAGE);
    private long version;

    /** Connects to {@code donor} as {@code config} says (its transport, timeouts and secret). */
    BareReference(BenchPlan plan, ClientConfig config, DonorAddress donor, SplittableRandom random,
                  BenchProgress progress, PrintStream log) {
        this.plan = plan;
        this.random = random;
        this.progress = progress;
        this.log = log;
        this.contents = new PageContents(plan.pageCount(), plan.seed());
        this.pagesPerSlab = plan.slabBytes() / PAGE;
        this.slabs = (plan.pageCount() + pagesPerSlab - 1) / pagesPerSlab;
        this.transport = Transports.open(config);
        try {
            this.connection = transport.connect(donor, "valet-bench-bare").join();
        } catch (RuntimeException e) {
            transport.close();
            scratch.release();
            if (e instanceof CompletionException && e.getCause() != null) {
                throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
            }
            throw e;
        }
    }

    /** The transport's counters, for a case's costs. */
    DonorTransport transport() {
        return transport;
    }

    /**
     * Allocates the slabs, writes every page once, then runs every case's warm-up once; returns what that was.
     */
    BenchResults.Prefill prepare() throws InterruptedException {
        List<CompletableFuture<Void>> allocs = new ArrayList<>();
        for (long s = 0; s < slabs; s++) {
            allocs.add(connection.allocateSlab(s, plan.slabBytes()));
        }
        CompletableFuture.allOf(allocs.toArray(CompletableFuture[]::new)).join();
        int gen = contents.nextGeneration();
        int perRequest = Math.min(EngineBench.PREFILL_RUN_PAGES, connection.maxPagesPerRequest());
        Semaphore window = new Semaphore(EngineBench.PREFILL_WINDOW);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long pageCount = plan.pageCount();
        long t0 = System.nanoTime();
        try (BenchProgress.Phase bar = progress.start("prefill bare", pageCount)) {
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
                    bar.step(n);
                    window.release();
                });
                page += n;
            }
            window.acquire(EngineBench.PREFILL_WINDOW);
            window.release(EngineBench.PREFILL_WINDOW);
        }
        long nanos = System.nanoTime() - t0;
        log.printf("bare: prefill of %d pages: %.0f pages/s, %d errors%n", pageCount, done.get() * 1e9 / nanos,
                failed.get());
        long roundErrors = 0;
        if (plan.warmupOps() > 0) {
            for (BenchPlan.Op op : plan.operations()) {
                for (BenchPlan.Pattern pattern : plan.patterns()) {
                    roundErrors += run(op, PageOrders.bounded(PageOrders.pages(pattern, pageCount, random),
                                    plan.warmupOps(), plan.secondsPerCase()), contents.nextGeneration(),
                            EngineBench.histogram(), n -> { });
                }
            }
        }
        return new BenchResults.Prefill("bare", 1, done.get(), failed.get(), nanos / 1e9, done.get() * 1e9 / nanos,
                roundErrors);
    }

    /** One operation at a time until {@code order} ends; returns the pages that failed or read back wrong. */
    long run(BenchPlan.Op op, EngineLoad.RunOrder order, int writeGen, Histogram latency, LongConsumer step) {
        long errors = 0;
        long page;
        while ((page = order.next()) >= 0) {
            long slab = page / pagesPerSlab;
            long index = page % pagesPerSlab;
            boolean ok;
            if (op == BenchPlan.Op.write) {
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
            step.accept(1);
        }
        return errors;
    }

    private static void record(Histogram latency, long t0) {
        long micros = (System.nanoTime() - t0) / 1000;
        latency.recordValue(Math.min(micros, latency.getHighestTrackableValue()));
    }

    /** Frees the reference's slabs, then closes its connection and transport. */
    @Override
    public void close() {
        try {
            List<CompletableFuture<Void>> frees = new ArrayList<>();
            for (long s = 0; s < slabs; s++) {
                frees.add(connection.freeSlab(s).exceptionally(e -> null));
            }
            CompletableFuture.allOf(frees.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.printf("could not free the reference's slabs: %s%n", e);
        } finally {
            connection.close();
            transport.close();
            scratch.release();
        }
    }
}
