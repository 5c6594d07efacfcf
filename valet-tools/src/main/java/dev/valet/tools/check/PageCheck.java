package dev.valet.tools.check;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PagePattern;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
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
 *
 * <p>With a {@link PageCipher} (the client's {@code encryption.mode: aes-256-gcm}) every page is encrypted as the
 * engine does, and the versions on the wire are {@code base + round}, {@code base} taken from the clock as the
 * engine's floor is ({@code millis × 2^20}), so a check never encrypts two contents under one (page, version)
 * whatever ran before it under the same identity and key. Verify-only ({@code --verify-only}) writes nothing: it
 * reads the pages a previous {@code --keep} run left, authenticates and decrypts each under the version the donor
 * holds, and compares it with the last round's pattern.
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
     * @param verifyOnly      only read and verify what an earlier check left (no allocation, write or free)
     */
    public record Options(long pages, long slabBytes, long firstSlabId, int pagesPerRequest, int window, int rounds,
                          long seed, boolean freeSlabs, boolean verifyOnly) {
        public Options(long pages, long slabBytes, long firstSlabId, int pagesPerRequest, int window, int rounds,
                       long seed, boolean freeSlabs) {
            this(pages, slabBytes, firstSlabId, pagesPerRequest, window, rounds, seed, freeSlabs, false);
        }

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
            return pages * ((verifyOnly ? 0 : rounds) + 1L);
        }
    }

    /** What a check found. {@link #clean()} when every page came back exactly as written. */
    public record Result(long pages, long pagesWritten, long pagesVerified, long mismatches, long failedRequests,
                         long writeNanos, long readNanos, long authenticationFailures) {
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
    private final AtomicLong unauthenticated = new AtomicLong();
    /** Null: pages in clear. */
    private final PageCipher cipher;
    /** Added to the round to make the version on the wire (0 in clear). */
    private final long versionBase;
    private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[FrameHeader.PAGE_SIZE]);

    /** @param progress told how many pages each finished request covered (see {@link Options#progressUnits()}) */
    public PageCheck(List<DonorConnection> donors, Options options, LongConsumer progress) {
        this(donors, options, progress, null);
    }

    /** With {@code cipher} non-null, pages are encrypted and authenticated as the engine does (see above). */
    public PageCheck(List<DonorConnection> donors, Options options, LongConsumer progress, PageCipher cipher) {
        this.cipher = cipher;
        this.versionBase = cipher == null ? 0 : System.currentTimeMillis() << 20;
        if (donors.isEmpty()) {
            throw new IllegalArgumentException("no donors to check against");
        }
        this.donors = donors;
        this.options = options;
        this.progress = progress;
        this.window = new Semaphore(options.window());
    }

    public Result run() throws InterruptedException {
        long t0 = System.nanoTime();
        if (!options.verifyOnly()) {
            allocateSlabs();
            t0 = System.nanoTime();
            for (int round = 1; round <= options.rounds(); round++) {
                writeAll(round);
            }
            drain();
        }
        long t1 = System.nanoTime();
        readAll();
        drain();
        long t2 = System.nanoTime();
        if (options.freeSlabs() && !options.verifyOnly()) {
            freeSlabs();
        }
        return new Result(options.pages(), written.get(), verified.get(), mismatches.get(), failed.get(), t1 - t0,
                t2 - t1, unauthenticated.get());
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

    private void writeAll(long round) throws InterruptedException {
        long version = versionBase + round;
        forEachRequest((donor, slabId, firstPage, count) -> {
            byte[] page = scratch.get();
            ByteBuf sealed = cipher == null ? null : seal(slabId, firstPage, count, round);
            donor.writePages(slabId, count, encoder -> {
                for (int i = 0; i < count; i++) {
                    if (sealed != null) {
                        int at = i * FrameHeader.PAGE_SIZE;
                        int tag = count * FrameHeader.PAGE_SIZE + i * PageCipher.TAG_BYTES;
                        encoder.add(firstPage + i, version, PageChecksum.crc32c(sealed, at), sealed, tag, sealed,
                                at);
                        continue;
                    }
                    PagePattern.fill(page, options.seed(), slabId, firstPage + i, round);
                    encoder.add(firstPage + i, version, PageChecksum.crc32c(page, 0), page, 0);
                }
            }).whenComplete((ok, err) -> {
                if (sealed != null) {
                    sealed.release();
                }
                if (err != null) {
                    failed.incrementAndGet();
                    LOG.warn("write of slab {} pages {}..{} failed: {}", slabId, firstPage, firstPage + count - 1,
                            err.toString());
                } else if (round == options.rounds()) {
                    written.addAndGet(count);
                }
                progress.accept(count);
                window.release();
            });
        });
    }

    /** The pages' ciphertext ({@code count} pages), then their tags. */
    private ByteBuf seal(long slabId, long firstPage, int count, long round) {
        ByteBuf sealed = Unpooled.directBuffer(count * (FrameHeader.PAGE_SIZE + PageCipher.TAG_BYTES));
        byte[] page = new byte[FrameHeader.PAGE_SIZE];
        ByteBuf plain = Unpooled.wrappedBuffer(page);
        for (int i = 0; i < count; i++) {
            PagePattern.fill(page, options.seed(), slabId, firstPage + i, round);
            cipher.encrypt(slabId, firstPage + i, versionBase + round, plain, 0, sealed,
                    i * FrameHeader.PAGE_SIZE, sealed, count * FrameHeader.PAGE_SIZE + i * PageCipher.TAG_BYTES);
        }
        return sealed;
    }

    private void readAll() throws InterruptedException {
        long expectedVersion = versionBase + options.rounds();
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
        ByteBuf plain = cipher == null ? null : Unpooled.directBuffer(FrameHeader.PAGE_SIZE);
        try {
            for (int i = 0; i < pages.count(); i++) {
                verifyPage(pages, i, slabId, indexes, expectedVersion, expected, buf, plain);
            }
        } finally {
            if (plain != null) {
                plain.release();
            }
        }
    }

    private void verifyPage(PageBatch pages, int i, long slabId, long[] indexes, long expectedVersion,
                            byte[] expected, ByteBuf buf, ByteBuf plain) {
        long index = pages.pageIndex(i);
        String problem = null;
        // Verify-only under encryption: the version is the one the donor holds (the writing run's base is not
        // known here); authentication proves it is this key's, and the content that it is the last round's.
        boolean anyVersion = options.verifyOnly() && cipher != null;
        if (index != indexes[i]) {
            problem = "came back as page " + index;
        } else if (anyVersion ? pages.version(i) == 0 : pages.version(i) != expectedVersion) {
            problem = "version " + pages.version(i) + ", expected " + (anyVersion ? "a written one"
                    : expectedVersion);
        } else if (!pages.checksumValid(i)) {
            problem = "CRC32C does not match its data";
        } else if (cipher != null && !cipher.decrypt(slabId, index, pages.version(i),
                buf, pages.dataIndex(i), buf, pages.tagIndex(i), plain, 0)) {
            unauthenticated.incrementAndGet();
            problem = "fails authentication (AES-GCM tag): written under another key than "
                    + cipher.key().source() + ", or altered";
        } else {
            PagePattern.fill(expected, options.seed(), slabId, index, options.rounds());
            ByteBuf data = cipher != null ? plain : buf;
            int at = cipher != null ? 0 : pages.dataIndex(i);
            for (int b = 0; b < FrameHeader.PAGE_SIZE; b++) {
                if (data.getByte(at + b) != expected[b]) {
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

    private void drain() throws InterruptedException {
        window.acquire(options.window());
        window.release(options.window());
    }
}
