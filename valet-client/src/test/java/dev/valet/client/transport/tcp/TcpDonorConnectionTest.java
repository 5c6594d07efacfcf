package dev.valet.client.transport.tcp;

import dev.valet.client.DonorFixture;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PagePattern;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBufUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The TCP connection against a real donor process: ownership, typed errors, and a donor that dies. */
class TcpDonorConnectionTest {
    private static final long SLAB = 7;
    private static final long SLAB_BYTES = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void anotherIdentityCannotReadWriteOrFreeTheOwnersSlab() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "iso", "64M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection alpha = DonorFixture.connect(transport, donor, "alpha");
             DonorConnection beta = DonorFixture.connect(transport, donor, "beta")) {
            alpha.allocateSlab(SLAB, SLAB_BYTES).join();
            write(alpha, SLAB, 0, 16, 1, 11);

            assertRefused(beta.readPages(SLAB, new long[] {0}, 1), ErrorCode.NO_SUCH_SLAB);
            assertRefused(write(beta, SLAB, 0, 1, 5, 99), ErrorCode.NO_SUCH_SLAB);
            assertRefused(beta.freeSlab(SLAB), ErrorCode.NO_SUCH_SLAB);
            // Nor list it, nor read its page index.
            assertThat(beta.listSlabs().join().slabs()).isEmpty();
            assertRefused(beta.readIndex(SLAB, 0, 1), ErrorCode.NO_SUCH_SLAB);

            // Beta's own slab 7 is a different slab: writing it leaves alpha's untouched.
            beta.allocateSlab(SLAB, SLAB_BYTES).join();
            write(beta, SLAB, 0, 16, 1, 99).join();

            assertPages(alpha, SLAB, 0, 16, 1, 11);
            assertPages(beta, SLAB, 0, 16, 1, 99);
            assertThat(alpha.stats().join().slabCount()).isEqualTo(2);
        }
    }

    @Test
    void refusedRequestsSayWhyAndChangeNothing() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "err", "2M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection c = DonorFixture.connect(transport, donor, "errs")) {
            c.allocateSlab(1, SLAB_BYTES).join();
            write(c, 1, 0, 4, 3, 1).join();

            assertRefused(c.allocateSlab(1, SLAB_BYTES), ErrorCode.SLAB_EXISTS);
            assertRefused(c.allocateSlab(2, 4 << 20), ErrorCode.NO_SPACE);
            assertRefused(write(c, 1, 0, 1, 2, 1), ErrorCode.STALE_VERSION);
            assertRefused(write(c, 1, 256, 1, 9, 1), ErrorCode.PAGE_OUT_OF_RANGE);
            assertRefused(c.readPages(1, new long[] {0, 300}, 2), ErrorCode.PAGE_OUT_OF_RANGE);

            assertPages(c, 1, 0, 4, 3, 1);
            assertThat(c.stats().join().lentBytes()).isEqualTo(SLAB_BYTES);
        }
    }

    @Test
    void requestsInFlightWhenTheDonorIsKilledFailAsUnavailable() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "kill", "256M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection c = DonorFixture.connect(transport, donor, "victim")) {
            c.allocateSlab(1, 64L << 20).join();
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int first = 0; first < 16384; first += 64) {
                writes.add(write(c, 1, first, 64, 1, 5));
            }
            donor.kill();
            int failed = 0;
            for (CompletableFuture<Void> w : writes) {
                try {
                    w.join();
                } catch (CompletionException e) {
                    assertThat(e.getCause()).isInstanceOf(DonorUnavailableException.class);
                    failed++;
                }
            }
            // Every request either completed or failed; none hangs (join returned for all).
            assertThat(failed + writes.stream().filter(f -> !f.isCompletedExceptionally()).count())
                    .isEqualTo(writes.size());
            assertThat(c.isOpen()).isFalse();
            assertThatThrownBy(() -> c.stats().join()).hasCauseInstanceOf(DonorUnavailableException.class);
        }
    }

    @Test
    void aRequestToAFrozenDonorTimesOutAsSuchAndTheConnectionServesAgainAfterTheThaw() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "frozen", "16M");
             TcpTransport transport = new TcpTransport(NettyTransport.select(), 2, Duration.ofSeconds(10),
                     Duration.ofSeconds(1), 128);
             DonorConnection c = DonorFixture.connect(transport, donor, "frozen")) {
            c.allocateSlab(1, SLAB_BYTES).join();
            write(c, 1, 0, 1, 1, 3).join();
            donor.pause();
            try {
                CompletableFuture<Void> late = write(c, 1, 0, 1, 2, 3);
                // The connection's deadline scan fails it: typed as a timeout, not as a refusal or a closed channel.
                assertThatThrownBy(late::join).isInstanceOf(CompletionException.class)
                        .cause().isInstanceOf(DonorUnavailableException.class)
                        .hasMessageContaining("no reply to request");
                assertThat(DonorUnavailableException.isTimeout(late.handle((ok, e) -> e).join())).isTrue();
                assertThat(c.isOpen()).isTrue();
            } finally {
                donor.resume();
            }
            // The late write lands after the thaw (its reply is dropped); a newer version still wins.
            write(c, 1, 0, 1, 3, 3).join();
            assertPages(c, 1, 0, 1, 3, 3);
        }
    }

    @Test
    void heartbeatMeasuresARoundTrip() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "hb", "4M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection c = DonorFixture.connect(transport, donor, "hb")) {
            assertThat(c.heartbeat().join()).isPositive();
            assertThat(c.hello().pageSize()).isEqualTo(FrameHeader.PAGE_SIZE);
            assertThat(c.maxPagesPerRequest()).isEqualTo(Math.min(128, PageBatch.maxPages(1 << 20)));
        }
    }

    @Test
    void everyFrameSentIsCountedAndFlushesNeverOutnumberFramesAndEveryReplyHasItsRoundTrip() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "wire", "4M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection c = DonorFixture.connect(transport, donor, "wire")) {
            c.allocateSlab(SLAB, SLAB_BYTES).join();
            long frames = transport.wire().frames();
            long flushes = transport.wire().flushes();
            long replies = transport.wire().replies();
            long roundTrips = transport.wire().roundTripNanos();
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                writes.add(write(c, SLAB, i, 1, 1, 3));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();

            long sent = transport.wire().frames() - frames;
            assertThat(sent).as("frames (requests ready together share one)").isBetween(1L, 64L);
            assertThat(transport.wire().flushes() - flushes).isBetween(1L, sent);
            assertThat(transport.wire().replies() - replies).isEqualTo(sent);
            assertThat(transport.wire().roundTripNanos() - roundTrips).isPositive();
            assertPages(c, SLAB, 0, 64, 1, 3);
        }
    }

    /**
     * Requests for one slab that are ready together (here: queued while the connection's event loop is held) share
     * WRITE_PAGES and READ_PAGES frames (as many as a frame has room for), each answered with one reply, and every
     * read gets its own pages.
     */
    @Test
    void requestsReadyTogetherForOneSlabGoOutAsOneFrameAndEachGetsItsOwnPages() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "merge", "4M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection c = DonorFixture.connect(transport, donor, "merge")) {
            c.allocateSlab(SLAB, SLAB_BYTES).join();
            long frames = transport.wire().frames();
            long replies = transport.wire().replies();
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            int n = 64; // single pages: a frame per ROOM_PAGES of them
            HeldLoop held = new HeldLoop(c);
            try {
                for (int i = 0; i < n; i++) {
                    writes.add(write(c, SLAB, i, 1, 1, 5));
                }
            } finally {
                held.release();
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
            int writeFrames = n / OpenFrames.ROOM_PAGES;
            assertThat(transport.wire().frames() - frames).as("frames for %d writes ready together", n)
                    .isEqualTo(writeFrames);
            assertThat(transport.wire().replies() - replies).isEqualTo(writeFrames);

            List<CompletableFuture<ReceivedPages>> reads = new ArrayList<>();
            long[] order = {17, 3, 40, 41, 42, 0, 63, 8};
            HeldLoop heldAgain = new HeldLoop(c);
            try {
                for (int i = 0; i < order.length; i += 2) {
                    reads.add(c.readPages(SLAB, new long[] {order[i], order[i + 1]}, 2));
                }
            } finally {
                heldAgain.release();
            }
            byte[] expected = new byte[FrameHeader.PAGE_SIZE];
            for (int r = 0; r < reads.size(); r++) {
                try (ReceivedPages got = reads.get(r).join()) {
                    PageBatch pages = got.pages();
                    assertThat(pages.count()).isEqualTo(2);
                    for (int i = 0; i < 2; i++) {
                        long page = order[2 * r + i];
                        PagePattern.fill(expected, 5, SLAB, page, 1);
                        assertThat(pages.pageIndex(i)).isEqualTo(page);
                        assertThat(ByteBufUtil.getBytes(pages.buffer(), pages.dataIndex(i), FrameHeader.PAGE_SIZE))
                                .isEqualTo(expected);
                    }
                }
            }
            assertThat(transport.wire().frames() - frames).as("plus the frames of the 4 reads of 2 pages")
                    .isEqualTo(writeFrames + order.length / OpenFrames.ROOM_PAGES);
        }
    }

    /**
     * A merged frame the donor refuses (one member's page is stale) is sent again request by request: the others are
     * stored, the stale one alone is refused. Two writes of one page are never merged (the donor refuses a batch that
     * names a page twice): the later version is the one stored.
     */
    @Test
    void aRefusedMergedFrameIsResentPerRequestAndOnePageIsNeverInAFrameTwice() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "refuse", "4M");
             TcpTransport transport = DonorFixture.transport();
             DonorConnection c = DonorFixture.connect(transport, donor, "refuse")) {
            c.allocateSlab(SLAB, SLAB_BYTES).join();
            write(c, SLAB, 5, 1, 10, 7).join();
            CompletableFuture<Void> before;
            CompletableFuture<Void> stale;
            CompletableFuture<Void> after;
            CompletableFuture<Void> first;
            CompletableFuture<Void> second;
            HeldLoop held = new HeldLoop(c);
            try {
                before = write(c, SLAB, 4, 1, 1, 7);
                stale = write(c, SLAB, 5, 1, 3, 7);
                after = write(c, SLAB, 6, 1, 1, 7);
                first = write(c, SLAB, 9, 1, 1, 7);
                second = write(c, SLAB, 9, 1, 2, 7);
            } finally {
                held.release();
            }
            before.join();
            after.join();
            assertRefused(stale, ErrorCode.STALE_VERSION);
            second.join();
            // The first write of page 9 went in the refused frame and was resent after the second was stored: it is
            // then refused as stale (what the engine counts as superseded). Either way the newer version stays.
            try {
                first.join();
            } catch (CompletionException e) {
                assertRefused(first, ErrorCode.STALE_VERSION);
            }
            assertPages(c, SLAB, 4, 1, 1, 7);
            assertPages(c, SLAB, 5, 1, 10, 7);
            assertPages(c, SLAB, 6, 1, 1, 7);
            assertPages(c, SLAB, 9, 1, 2, 7);
        }
    }

    /** Holds the connection's event loop until released: requests made meanwhile are all ready together. */
    private static final class HeldLoop {
        private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

        HeldLoop(DonorConnection c) throws InterruptedException {
            java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
            ((TcpDonorConnection) c).channel().eventLoop().execute(() -> {
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            holding.await();
        }

        void release() {
            release.countDown();
        }
    }

    private static CompletableFuture<Void> write(DonorConnection c, long slab, long first, int count, long version,
                                                 long seed) {
        byte[] page = new byte[FrameHeader.PAGE_SIZE];
        return c.writePages(slab, count, encoder -> {
            for (int i = 0; i < count; i++) {
                PagePattern.fill(page, seed, slab, first + i, version);
                encoder.add(first + i, version, PageChecksum.crc32c(page, 0), page, 0);
            }
        });
    }

    private static void assertPages(DonorConnection c, long slab, long first, int count, long version, long seed) {
        long[] indexes = new long[count];
        for (int i = 0; i < count; i++) {
            indexes[i] = first + i;
        }
        byte[] expected = new byte[FrameHeader.PAGE_SIZE];
        try (ReceivedPages r = c.readPages(slab, indexes, count).join()) {
            PageBatch pages = r.pages();
            assertThat(pages.count()).isEqualTo(count);
            for (int i = 0; i < count; i++) {
                PagePattern.fill(expected, seed, slab, first + i, version);
                assertThat(pages.version(i)).isEqualTo(version);
                assertThat(pages.checksumValid(i)).isTrue();
                assertThat(ByteBufUtil.getBytes(pages.buffer(), pages.dataIndex(i), FrameHeader.PAGE_SIZE))
                        .isEqualTo(expected);
            }
        }
    }

    private static void assertRefused(CompletableFuture<?> f, ErrorCode code) {
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(DonorException.class)
                .satisfies(e -> assertThat(((DonorException) e).code()).isEqualTo(code));
    }
}
