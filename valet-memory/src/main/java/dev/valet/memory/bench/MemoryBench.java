package dev.valet.memory.bench;

import dev.valet.memory.MemoryException;
import dev.valet.memory.Region;
import dev.valet.memory.RemoteMemory;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Gengar's benchmark shape on a {@link RemoteMemory}: allocate {@code objects} regions of {@code objectSize} bytes,
 * write each once (the fill), then {@code ops} operations on objects drawn at random, {@code readPercent} of them
 * whole-object reads and the rest whole-object writes of a new version, {@code depth} in flight through the async
 * API (never two at once on one object), then read every object back. Every read is checked against the version
 * last written ({@link ObjectContents}). Latencies are of the measured mix only, submission to completion.
 */
public final class MemoryBench {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryBench.class);
    private static final int MAX_REPORTED = 10;

    /**
     * @param objects     regions to allocate
     * @param objectSize  bytes of each
     * @param ops         operations of the measured mix
     * @param readPercent share of reads in the mix, 0 to 100
     * @param depth       operations in flight at once (at most {@code objects})
     * @param seed        of the contents and of the choices
     */
    public record Options(int objects, int objectSize, long ops, int readPercent, int depth, long seed) {
        /** @throws IllegalArgumentException naming the option that is out of range */
        public Options {
            if (objects < 1 || objectSize < 1 || ops < 0 || readPercent < 0 || readPercent > 100 || depth < 1
                    || depth > objects) {
                throw new IllegalArgumentException("objects and object size at least 1, ops not negative, read"
                        + " percent 0 to 100, depth 1 to objects: " + this);
            }
        }

        /** Progress units of a run: the fill, the mix and the final check, an operation each. */
        public long progressUnits() {
            return objects * 2L + ops;
        }
    }

    /**
     * What it measured. {@code lost} counts objects that did not read back as last written (or whose write failed);
     * {@code failed} counts operations that threw.
     */
    public record Result(int objects, long reads, long writes, long verified, long lost, long failed,
                         Histogram readMicros, Histogram writeMicros, long mixNanos) {
        public boolean clean() {
            return lost == 0 && failed == 0 && verified == objects;
        }
    }

    private final RemoteMemory memory;
    private final Options options;
    private final LongConsumer progress;
    private final List<Region> regions = new ArrayList<>();
    private final long[] versions;
    private final AtomicIntegerArray busy;
    private final BlockingQueue<ByteBuffer> buffers;
    private final Semaphore window;
    private final Random random;
    private final Histogram readMicros = new Histogram(3);
    private final Histogram writeMicros = new Histogram(3);
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong verified = new AtomicLong();
    private final ConcurrentHashMap<Integer, String> lost = new ConcurrentHashMap<>();

    /** @param progress told of every operation that ended ({@link Options#progressUnits()} in all) */
    public MemoryBench(RemoteMemory memory, Options options, LongConsumer progress) {
        this.memory = memory;
        this.options = options;
        this.progress = progress;
        this.versions = new long[options.objects()];
        this.busy = new AtomicIntegerArray(options.objects());
        this.buffers = new ArrayBlockingQueue<>(options.depth());
        for (int i = 0; i < options.depth(); i++) {
            buffers.add(ByteBuffer.allocateDirect(options.objectSize()));
        }
        this.window = new Semaphore(options.depth());
        this.random = new Random(options.seed());
    }

    /** Runs it; the regions are freed at the end. */
    public Result run() throws MemoryException, InterruptedException {
        for (int o = 0; o < options.objects(); o++) {
            regions.add(memory.allocate(options.objectSize()));
        }
        try {
            for (int o = 0; o < options.objects(); o++) {
                submit(o, true, false);
            }
            drain();
            long filled = writes.get();
            long t0 = System.nanoTime();
            for (long i = 0; i < options.ops(); i++) {
                boolean read = random.nextInt(100) < options.readPercent();
                window.acquire();
                int o = random.nextInt(options.objects());
                while (!busy.compareAndSet(o, 0, 1)) {
                    o = random.nextInt(options.objects()); // at most depth - 1 are busy: another is free
                }
                window.release();
                submit(o, !read, true);
            }
            drain();
            long mixNanos = System.nanoTime() - t0;
            long mixReads = reads.get();
            long mixWrites = writes.get() - filled;
            for (int o = 0; o < options.objects(); o++) {
                submit(o, false, false);
            }
            drain();
            return new Result(options.objects(), mixReads, mixWrites, verified.get(), lost.size(), failed.get(),
                    readMicros, writeMicros, mixNanos);
        } finally {
            for (Region r : regions) {
                r.free();
            }
        }
    }

    /** One whole-object read (checked) or write (a new version), in flight once the window lets it. */
    private void submit(int o, boolean write, boolean measured) throws InterruptedException {
        window.acquire();
        busy.set(o, 1);
        ByteBuffer buf = buffers.take();
        long version = write ? versions[o] + 1 : versions[o];
        if (write) {
            ObjectContents.fill(buf, options.objectSize(), options.seed(), o, version);
        } else {
            buf.clear().limit(options.objectSize());
        }
        long start = System.nanoTime();
        CompletableFuture<Void> f = write ? regions.get(o).writeAsync(0, buf) : regions.get(o).readAsync(0, buf);
        f.whenComplete((ok, err) -> {
            long micros = (System.nanoTime() - start) / 1000;
            try {
                if (err != null) {
                    failed.incrementAndGet();
                    lostObject(o, (write ? "write" : "read") + " failed: " + err.getMessage());
                } else if (write) {
                    versions[o] = version;
                    writes.incrementAndGet();
                } else {
                    reads.incrementAndGet();
                    if (ObjectContents.matches(buf, options.objectSize(), options.seed(), o, version)) {
                        if (!measured) {
                            verified.incrementAndGet();
                        }
                    } else {
                        lostObject(o, "read back other bytes than version " + version);
                    }
                }
                if (measured) {
                    Histogram h = write ? writeMicros : readMicros;
                    synchronized (h) {
                        h.recordValue(Math.max(1, micros));
                    }
                }
            } finally {
                buffers.add(buf);
                busy.set(o, 0);
                progress.accept(1);
                window.release();
            }
        });
    }

    private void lostObject(int o, String why) {
        if (lost.putIfAbsent(o, why) == null && lost.size() <= MAX_REPORTED) {
            LOG.error("object {} ({}): {}", o, regions.get(o), why);
        }
    }

    private void drain() throws InterruptedException {
        window.acquire(options.depth());
        window.release(options.depth());
    }
}
