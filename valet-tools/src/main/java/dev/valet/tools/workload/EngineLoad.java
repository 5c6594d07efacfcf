package dev.valet.tools.workload;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.PageIoDone;
import dev.valet.common.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
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
    private final int window;
    /** Runs not in flight; completions put them back from any thread, the submitting thread takes them. */
    private final Queue<Run> free;
    private final Run[] all;
    private volatile Thread submitter;
    private ThreadCosts costs;

    public EngineLoad(Engine engine, int window, int runPages) {
        this.engine = engine;
        this.runPages = runPages;
        this.window = window;
        this.free = PlatformDependent.newFixedMpscQueue(window);
        this.all = new Run[window];
        for (int i = 0; i < window; i++) {
            all[i] = new Run(Unpooled.directBuffer(runPages * FrameHeader.PAGE_SIZE));
            free.add(all[i]);
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
        return run(order, new Phase(true, filler, null, progress));
    }

    public Result read(RunOrder order, PageChecker checker, LongConsumer progress) throws InterruptedException {
        return run(order, new Phase(false, null, checker, progress));
    }

    private Result run(RunOrder order, Phase phase) throws InterruptedException {
        submitter = Thread.currentThread();
        ThreadCosts measured = costs;
        if (measured != null) {
            measured.start();
        }
        long start = System.nanoTime();
        long first;
        while ((first = order.next()) >= 0) {
            Run run = takeFree();
            run.start(phase, first, (int) Math.min(runPages, engine.pageCount() - first));
        }
        drain();
        long nanos = System.nanoTime() - start;
        if (measured != null) {
            measured.stop();
        }
        return new Result(phase.done.get(), phase.failed.get(), nanos, phase.latency);
    }

    /** A run not in flight, waiting (parked, allocating nothing) until one ends. */
    private Run takeFree() throws InterruptedException {
        Run run;
        while ((run = free.poll()) == null) {
            LockSupport.parkNanos(this, 1_000_000);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        return run;
    }

    /** Waits for every run in flight to end. */
    private void drain() throws InterruptedException {
        List<Run> back = new ArrayList<>(window);
        for (int i = 0; i < window; i++) {
            back.add(takeFree());
        }
        free.addAll(back);
    }

    /** One write or read pass: what its runs add up to. */
    private static final class Phase {
        final boolean write;
        final PageFiller filler;
        final PageChecker checker;
        final LongConsumer progress;
        final Histogram latency = new Histogram(3_600_000_000L, 3);
        final AtomicLong done = new AtomicLong();
        final AtomicLong failed = new AtomicLong();

        Phase(boolean write, PageFiller filler, PageChecker checker, LongConsumer progress) {
            this.write = write;
            this.filler = filler;
            this.checker = checker;
            this.progress = progress;
        }
    }

    /** One place of the window: its buffer, and the end of the run in it (preallocated, reused run after run). */
    private final class Run implements PageIoDone {
        private final ByteBuf buf;
        private Phase phase;
        private long first;
        private int n;
        private long startNanos;

        Run(ByteBuf buf) {
            this.buf = buf;
        }

        void start(Phase phase, long first, int n) {
            this.phase = phase;
            this.first = first;
            this.n = n;
            if (phase.write) {
                for (int i = 0; i < n; i++) {
                    phase.filler.fill(first + i, buf, i * FrameHeader.PAGE_SIZE);
                }
            }
            startNanos = System.nanoTime();
            if (phase.write) {
                engine.write(first, n, buf, 0, this);
            } else {
                engine.read(first, n, buf, 0, this);
            }
        }

        @Override
        public void pageIoDone(Throwable err) {
            Phase p = phase;
            long micros = (System.nanoTime() - startNanos) / 1000;
            synchronized (p.latency) {
                p.latency.recordValue(Math.min(micros, p.latency.getHighestTrackableValue()));
            }
            if (err != null) {
                if (p.failed.addAndGet(n) <= (long) MAX_REPORTED_FAILURES * n) {
                    LOG.error("{} of pages {}..{} failed: {}", p.write ? "write" : "read", first, first + n - 1,
                            err.getCause() != null ? err.getCause().getMessage() : err);
                }
            } else {
                int good = n;
                if (!p.write) {
                    for (int i = 0; i < n; i++) {
                        if (!p.checker.check(first + i, buf, i * FrameHeader.PAGE_SIZE)) {
                            good--;
                            if (p.failed.incrementAndGet() <= MAX_REPORTED_FAILURES) {
                                LOG.error("page {} read back different from what was written", first + i);
                            }
                        }
                    }
                }
                p.done.addAndGet(good);
            }
            p.progress.accept(n);
            free.offer(this);
            LockSupport.unpark(submitter);
        }
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
        free.clear();
        for (Run r : all) {
            r.buf.release();
        }
    }
}
