package dev.valet.tools.check;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PagePattern;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.LongConsumer;

/**
 * The checking client: writes a known pattern ({@link PagePattern}) to pages spread over slabs on one or more
 * donors, reads every page back and verifies version, checksum and every byte. Slab {@code s} lives on donor
 * {@code s mod donors}. Requests are pipelined up to a window. Used by the tests and by {@code valet check}.
 */
public final class PageCheck {
    private static final Logger LOG = LoggerFactory.getLogger(PageCheck.class);
    private static final int MAX_REPORTED_MISMATCHES = 10;

    /**
     * @param pages           pages to write and verify
     * @param slabBytes       slab size (multiple of 4096)
     * @param firstSlabId     id of the first slab (ids run upward from it)
     * @param pagesPerRequest pages per write/read request (capped by each connection's limit)
     * @param window          requests in flight at once
     * @param rounds          times every page is written (version = round); the read checks the last
     * @param seed            pattern seed
     * @param freeSlabs       free the slabs when done
     */
    public record Options(long pages, long slabBytes, long firstSlabId, int pagesPerRequest, int window, int rounds,
                          long seed, boolean freeSlabs) {
        public Options {
            if (pages < 1 || slabBytes < FrameHeader.PAGE_SIZE || slabBytes % FrameHeader.PAGE_SIZE != 0
                    || pagesPerRequest < 1 || window < 1 || rounds < 1) {
                // Named field by field: in a compact constructor 'this' still has every field at 0.
                throw new IllegalArgumentException("bad check options: pages=" + pages + " (at least 1), slabBytes="
                        + slabBytes + " (a multiple of 4096), pagesPerRequest=" + pagesPerRequest + ", window="
                        + window + ", rounds=" + rounds + " (each at least 1)");
            }
        }

        long pagesPerSlab() {
            return slabBytes / FrameHeader.PAGE_SIZE;
        }

        long slabs() {
            return (pages + pagesPerSlab() - 1) / pagesPerSlab();
        }

        /** Total progress units a run reports: one per page written per round, one per page read. */
        public long progressUnits() {
            return pages * (rounds + 1L);
        }
    }

    /** What a check found. {@link #clean()} when every page came back exactly as written. */
    public record Result(long pages, long pagesWritten, long pagesVerified, long mismatches, long failedRequests,
                         long writeNanos, long readNanos) {
        public boolean clean() {
            return pagesVerified == pages && mismatches == 0 && failedRequests == 0;
        }

        public double writePagesPerSecond() {
            return writeNanos == 0 ? 0 : pagesWritten * 1e9 / writeNanos;
        }

        public double readPagesPerSecond() {
            return readNanos == 0 ? 0 : pagesVerified * 1e9 / readNanos;
        }
    }

    private final List<DonorConnection> donors;
    private final Options options;
    private final LongConsumer progress;
    private final Semaphore window;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong verified = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[FrameHeader.PAGE_SIZE]);

    /** @param progress told how many pages each finished request covered (see {@link Options#progressUnits()}) */
    public PageCheck(List<DonorConnection> donors, Options options, LongConsumer progress) {
        if (donors.isEmpty()) {
            throw new IllegalArgumentException("no donors to check against");
        }
        this.donors = donors;
        this.options = options;
        this.progress = progress;
        this.window = new Semaphore(options.window());
    }

    public Result run() throws InterruptedException {
        allocateSlabs();
        long t0 = System.nanoTime();
        for (int round = 1; round <= options.rounds(); round++) {
            writeAll(round);
        }
        drain();
        long t1 = System.nanoTime();
        readAll();
        drain();
        long t2 = System.nanoTime();
        if (options.freeSlabs()) {
            freeSlabs();
        }
        return new Result(options.pages(), written.get(), verified.get(), mismatches.get(), failed.get(), t1 - t0,
                t2 - t1);
    }

    private DonorConnection donorOf(long slabIndex) {
        return donors.get((int) (slabIndex % donors.size()));
    }

    /**
     * Allocates every slab, each on its own: a slab a donor could not allocate (it died, it refused) fails its
     * requests, which the result counts; the check goes on with the others.
     */
    private void allocateSlabs() {
        eachSlab("allocated", (donor, slabId) -> donor.allocateSlab(slabId, options.slabBytes()));
    }

    /**
     * Frees every slab, each on its own: a donor that died during the check cannot free its slabs, which must not
     * stop the others from being freed nor the check from reporting what it found.
     */
    private void freeSlabs() {
        eachSlab("freed", DonorConnection::freeSlab);
    }

    /** Runs {@code call} for every slab at once and waits for all; failures are logged (the first, and a count). */
    private void eachSlab(String done, BiFunction<DonorConnection, Long, CompletableFuture<Void>> call) {
        AtomicLong failures = new AtomicLong();
        CompletableFuture<?>[] calls = new CompletableFuture<?>[(int) options.slabs()];
        for (long s = 0; s < options.slabs(); s++) {
            DonorConnection donor = donorOf(s);
            long slabId = options.firstSlabId() + s;
            CompletableFuture<Void> answer;
            try {
                answer = call.apply(donor, slabId);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            calls[(int) s] = answer.exceptionally(err -> {
                if (failures.getAndIncrement() == 0) {
                    LOG.warn("slab {} on donor {} not {}: {}", slabId, donor.address(), done, err.toString());
                }
                return null;
            });
        }
        CompletableFuture.allOf(calls).join();
        if (failures.get() > 0) {
            LOG.warn("{} of {} slabs not {}", failures.get(), options.slabs(), done);
        }
    }

    /** Calls {@code request} once per run of consecutive pages of one slab, at most one request's worth each. */
    private void forEachRequest(RequestBody request) throws InterruptedException {
        long perSlab = options.pagesPerSlab();
        for (long s = 0; s < options.slabs(); s++) {
            DonorConnection donor = donorOf(s);
            int perRequest = Math.min(options.pagesPerRequest(), donor.maxPagesPerRequest());
            long slabPages = Math.min(perSlab, options.pages() - s * perSlab);
            for (long first = 0; first < slabPages; first += perRequest) {
                int count = (int) Math.min(perRequest, slabPages - first);
                window.acquire();
                request.send(donor, options.firstSlabId() + s, first, count);
            }
        }
    }

    @FunctionalInterface
    private interface RequestBody {
        void send(DonorConnection donor, long slabId, long firstPage, int count);
    }

    private void writeAll(long version) throws InterruptedException {
        forEachRequest((donor, slabId, firstPage, count) -> {
            byte[] page = scratch.get();
            donor.writePages(slabId, count, encoder -> {
                for (int i = 0; i < count; i++) {
                    PagePattern.fill(page, options.seed(), slabId, firstPage + i, version);
                    encoder.add(firstPage + i, version, PageChecksum.crc32c(page, 0), page, 0);
                }
            }).whenComplete((ok, err) -> {
                if (err != null) {
                    failed.incrementAndGet();
                    LOG.warn("write of slab {} pages {}..{} failed: {}", slabId, firstPage, firstPage + count - 1,
                            err.toString());
                } else if (version == options.rounds()) {
                    written.addAndGet(count);
                }
                progress.accept(count);
                window.release();
            });
        });
    }

    private void readAll() throws InterruptedException {
        long expectedVersion = options.rounds();
        forEachRequest((donor, slabId, firstPage, count) -> {
            long[] indexes = new long[count];
            for (int i = 0; i < count; i++) {
                indexes[i] = firstPage + i;
            }
            donor.readPages(slabId, indexes, count).whenComplete((received, err) -> {
                try {
                    if (err != null) {
                        failed.incrementAndGet();
                        LOG.warn("read of slab {} pages {}..{} failed: {}", slabId, firstPage,
                                firstPage + count - 1, err.toString());
                    } else {
                        try (ReceivedPages r = received) {
                            verify(r.pages(), slabId, indexes, expectedVersion);
                        }
                    }
                } finally {
                    progress.accept(count);
                    window.release();
                }
            });
        });
    }

    private void verify(PageBatch pages, long slabId, long[] indexes, long expectedVersion) {
        byte[] expected = scratch.get();
        ByteBuf buf = pages.buffer();
        for (int i = 0; i < pages.count(); i++) {
            long index = pages.pageIndex(i);
            String problem = null;
            if (index != indexes[i]) {
                problem = "came back as page " + index;
            } else if (pages.version(i) != expectedVersion) {
                problem = "version " + pages.version(i) + ", expected " + expectedVersion;
            } else if (!pages.checksumValid(i)) {
                problem = "CRC32C does not match its data";
            } else {
                PagePattern.fill(expected, options.seed(), slabId, index, expectedVersion);
                int at = pages.dataIndex(i);
                for (int b = 0; b < FrameHeader.PAGE_SIZE; b++) {
                    if (buf.getByte(at + b) != expected[b]) {
                        problem = "byte " + b + " differs";
                        break;
                    }
                }
            }
            if (problem == null) {
                verified.incrementAndGet();
            } else if (mismatches.incrementAndGet() <= MAX_REPORTED_MISMATCHES) {
                LOG.error("slab {} page {}: {}", slabId, indexes[i], problem);
            }
        }
    }

    private void drain() throws InterruptedException {
        window.acquire(options.window());
        window.release(options.window());
    }
}
