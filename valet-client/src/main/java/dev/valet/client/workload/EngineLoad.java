package dev.valet.client.workload;

import dev.valet.client.engine.Engine;
import dev.valet.common.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Drives an {@link Engine} with runs of pages, at most {@code window} runs in flight, each in its own preallocated
 * buffer, and records every run's latency. What {@code valet demo} and {@code valet bench} are made of.
 */
public final class EngineLoad implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EngineLoad.class);
    private static final int MAX_REPORTED_FAILURES = 5;

    /** Where the next run starts, or -1 when there are no more. */
    @FunctionalInterface
    public interface RunOrder {
        long next();
    }

    /** Fills the page {@code page}'s 4096 bytes at {@code index} of {@code buf} with what is to be written. */
    @FunctionalInterface
    public interface PageFiller {
        void fill(long page, ByteBuf buf, int index);
    }

    /** Whether the 4096 bytes at {@code index} of {@code buf} are what page {@code page} must hold. */
    @FunctionalInterface
    public interface PageChecker {
        boolean check(long page, ByteBuf buf, int index);
    }

    /**
     * What a phase did.
     *
     * @param pages        pages written or read successfully (and, for reads, verified)
     * @param failedPages  pages whose run failed, or that read back wrong
     * @param nanos        wall time of the phase
     * @param latencyMicros per-run latency, microseconds
     */
    public record Result(long pages, long failedPages, long nanos, Histogram latencyMicros) {
        public double pagesPerSecond() {
            return nanos == 0 ? 0 : pages * 1e9 / nanos;
        }
    }

    private final Engine engine;
    private final int runPages;
    private final ArrayBlockingQueue<ByteBuf> free;
    private final int window;
    private ThreadCosts costs;

    public EngineLoad(Engine engine, int window, int runPages) {
        this.engine = engine;
        this.runPages = runPages;
        this.window = window;
        this.free = new ArrayBlockingQueue<>(window);
        for (int i = 0; i < window; i++) {
            free.add(Unpooled.directBuffer(runPages * FrameHeader.PAGE_SIZE));
        }
    }

    /**
     * From now on, counts every run's costs into {@code costs} (null: no longer), from its first submission to its
     * last completion: the run's own set-up (its latency histogram) is left out.
     */
    public EngineLoad measure(ThreadCosts costs) {
        this.costs = costs;
        return this;
    }

    public Result write(RunOrder order, PageFiller filler, LongConsumer progress) throws InterruptedException {
        return run(order, true, filler, null, progress);
    }

    public Result read(RunOrder order, PageChecker checker, LongConsumer progress) throws InterruptedException {
        return run(order, false, null, checker, progress);
    }

    private Result run(RunOrder order, boolean write, PageFiller filler, PageChecker checker, LongConsumer progress)
            throws InterruptedException {
        Histogram latency = new Histogram(3_600_000_000L, 3);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        ThreadCosts measured = costs;
        if (measured != null) {
            measured.start();
        }
        long start = System.nanoTime();
        long first;
        while ((first = order.next()) >= 0) {
            int n = (int) Math.min(runPages, engine.pageCount() - first);
            ByteBuf buf = free.take();
            if (write) {
                for (int i = 0; i < n; i++) {
                    filler.fill(first + i, buf, i * FrameHeader.PAGE_SIZE);
                }
            }
            long runFirst = first;
            long t0 = System.nanoTime();
            (write ? engine.write(first, n, buf, 0) : engine.read(first, n, buf, 0)).whenComplete((ok, err) -> {
                long micros = (System.nanoTime() - t0) / 1000;
                synchronized (latency) {
                    latency.recordValue(Math.min(micros, latency.getHighestTrackableValue()));
                }
                if (err != null) {
                    if (failed.addAndGet(n) <= (long) MAX_REPORTED_FAILURES * n) {
                        LOG.error("{} of pages {}..{} failed: {}", write ? "write" : "read", runFirst,
                                runFirst + n - 1, err.getCause() != null ? err.getCause().getMessage() : err);
                    }
                } else {
                    int good = n;
                    if (!write) {
                        for (int i = 0; i < n; i++) {
                            if (!checker.check(runFirst + i, buf, i * FrameHeader.PAGE_SIZE)) {
                                good--;
                                if (failed.incrementAndGet() <= MAX_REPORTED_FAILURES) {
                                    LOG.error("page {} read back different from what was written", runFirst + i);
                                }
                            }
                        }
                    }
                    done.addAndGet(good);
                }
                progress.accept(n);
                free.add(buf);
            });
        }
        drain();
        long nanos = System.nanoTime() - start;
        if (measured != null) {
            measured.stop();
        }
        return new Result(done.get(), failed.get(), nanos, latency);
    }

    /** Waits for every run in flight: each returns its buffer when it ends. */
    private void drain() throws InterruptedException {
        List<ByteBuf> all = new ArrayList<>(window);
        for (int i = 0; i < window; i++) {
            all.add(free.take());
        }
        free.addAll(all);
    }

    /** Runs {@code first, first + runPages, ...} up to {@code end}. */
    public static RunOrder sequential(long first, long end, int runPages) {
        long[] next = {first};
        return () -> {
            if (next[0] >= end) {
                return -1;
            }
            long r = next[0];
            next[0] += runPages;
            return r;
        };
    }

    @Override
    public void close() {
        for (ByteBuf b : free) {
            b.release();
        }
        free.clear();
    }
}
