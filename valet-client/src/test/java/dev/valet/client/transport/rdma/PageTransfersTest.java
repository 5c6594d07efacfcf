package dev.valet.client.transport.rdma;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorLatency;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.RequestTiming;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.RemoteSlab;
import dev.valet.common.rdma.NativeMemory;
import dev.valet.common.rdma.SendWorkRequests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Page requests over one queue pair, carried out by {@link SoftwareRdma} into a slab in this process's memory:
 * several in flight, each one chain and one signaled completion; the order rules; the version check; failures.
 */
class PageTransfersTest {
    private static final DonorAddress DONOR = DonorAddress.parse("127.0.0.1:1");
    private static final int MAX_PAGES = 4;
    private static final long SLAB = 7;
    private static final int SLAB_PAGES = 64;

    private final SoftwareRdma rdma = new SoftwareRdma();
    private final long donorMemory = NativeMemory.allocate((long) SLAB_PAGES * PageBatch.ENTRY_SIZE);
    private final RemoteSlab remote = new RemoteSlab(SLAB, donorMemory, 2, SLAB_PAGES);
    private final SendWorkRequests wrs = new SendWorkRequests(PageTransfers.workRequests(MAX_PAGES));
    private final SlotPool slots;
    private final PageTransfers transfers;
    /** What callers were told, in order: "W5 ok", "R5 v1 x01", "R5 STALE_VERSION", ... */
    private final List<String> answers = new ArrayList<>();
    private final WireCounters wire = new WireCounters();

    PageTransfersTest() throws IOException {
        slots = new SlotPool(DONOR, rdma, MAX_PAGES);
        transfers = new PageTransfers(DONOR, rdma, wrs, slots, slabId -> {
            if (slabId != SLAB) {
                throw new DonorException(DONOR.toString(), ErrorCode.NO_SUCH_SLAB, "slab " + slabId);
            }
            return remote;
        }, new AdaptiveTimeout(Duration.ofSeconds(1)), new RequestTiming(wire, DONOR), 2048);
    }

    @AfterEach
    void free() {
        wrs.close();
        NativeMemory.free(donorMemory);
    }

    private void write(long version, int fill, long... pages) {
        byte[] data = new byte[FrameHeader.PAGE_SIZE];
        Arrays.fill(data, (byte) fill);
        PageSlot slot = slots.claim();
        slot.fillWrite(SLAB, pages.length, encoder -> {
            for (long p : pages) {
                encoder.add(p, version, PageChecksum.crc32c(data, 0), data, 0);
            }
        });
        String name = "W" + Arrays.toString(pages).replace(" ", "");
        slot.writeAnswer = error -> answers.add(name + " " + outcome(error));
        transfers.queue(slot);
    }

    private void read(long... pages) {
        PageSlot slot = slots.claim();
        slot.fillRead(SLAB, pages, pages.length);
        String name = "R" + Arrays.toString(pages).replace(" ", "");
        slot.readAnswer = (batch, error) -> {
            if (error != null) {
                answers.add(name + " " + outcome(error));
                return;
            }
            StringBuilder sb = new StringBuilder(name);
            for (int i = 0; i < batch.count(); i++) {
                assertThat(batch.pageIndex(i)).isEqualTo(pages[i]);
                assertThat(batch.checksumValid(i)).as("CRC of page %d", pages[i]).isTrue();
                sb.append(String.format(" v%d x%02x", batch.version(i),
                        batch.buffer().getByte(batch.dataIndex(i) + FrameHeader.PAGE_SIZE - 1)));
            }
            answers.add(sb.toString());
        };
        transfers.queue(slot);
    }

    private static String outcome(Throwable error) {
        if (error == null) {
            return "ok";
        }
        return error instanceof DonorException d ? d.code().name() : error.getMessage();
    }

    /** Lets the software device carry out what was posted and hands its completions back, once. */
    private int completeOnce() throws IOException {
        List<Long> done = rdma.run();
        for (long id : done) {
            transfers.completed(id);
        }
        return done.size();
    }

    /** Starts and completes until nothing is left to do. */
    private void drain() throws IOException {
        while (transfers.startReady() + completeOnce() > 0) {
            // again
        }
    }

    @Test
    void severalRequestsAreInFlightAtOnceEachOneChainWithOneSignaledCompletion() throws IOException {
        for (int p = 0; p < 8; p++) {
            write(1, p + 1, p);
        }
        assertThat(transfers.startReady()).isEqualTo(8);
        assertThat(transfers.inFlight()).isEqualTo(8);
        assertThat(rdma.posts()).isEqualTo(8); // the version checks: one chain each
        assertThat(rdma.posted()).filteredOn(SoftwareRdma.Wr::signaled).hasSize(8);
        assertThat(completeOnce()).isEqualTo(8); // checks done: 8 chains of WRITE, WRITE, READ
        assertThat(rdma.posts()).isEqualTo(16);
        assertThat(rdma.posted()).hasSize(24).filteredOn(SoftwareRdma.Wr::signaled).hasSize(8);
        assertThat(answers).isEmpty();
        assertThat(completeOnce()).isEqualTo(8);
        assertThat(answers).containsExactly("W[0] ok", "W[1] ok", "W[2] ok", "W[3] ok", "W[4] ok", "W[5] ok",
                "W[6] ok", "W[7] ok");
        answers.clear();
        read(0, 1, 2, 3);
        read(7);
        drain();
        assertThat(answers).containsExactly("R[0,1,2,3] v1 x01 v1 x02 v1 x03 v1 x04", "R[7] v1 x08");
        assertThat(transfers.inFlight()).isZero();
    }

    @Test
    void aRequestTouchingAPageOfAWriteInFlightWaitsAndSoDoesEverythingBehindIt() throws IOException {
        write(1, 0x11, 5);
        read(5);
        read(9);
        write(1, 0x22, 6);
        assertThat(transfers.startReady()).isEqualTo(1);
        completeOnce();
        assertThat(transfers.startReady()).isZero(); // the write's second step is in flight
        completeOnce();
        assertThat(answers).containsExactly("W[5] ok");
        assertThat(transfers.startReady()).isEqualTo(3);
        drain();
        assertThat(answers).containsExactly("W[5] ok", "R[5] v1 x11", "R[9] v0 x00", "W[6] ok");
    }

    @Test
    void aWriteOlderThanTheStoredVersionIsRefusedAndWritesNothingWhileARetryOfTheSameVersionIsTaken()
            throws IOException {
        write(5, 0x55, 3);
        write(4, 0x44, 3);
        write(5, 0x56, 3);
        drain();
        read(3);
        drain();
        assertThat(answers).containsExactly("W[3] ok", "W[3] STALE_VERSION", "W[3] ok", "R[3] v5 x56");
    }

    @Test
    void everyAnsweredRequestIsTimedOnceAsTheDonorsReadOrWriteAndOnlyThose() throws IOException {
        write(5, 0x55, 3);
        write(4, 0x44, 3); // refused after its version check: answered, so timed, as a refused TCP write is
        read(3, 4);
        read(SLAB_PAGES); // refused before anything is posted: no round trip
        drain();
        write(1, 1, 9);
        transfers.startReady();
        transfers.failAll(new DonorUnavailableException("gone")); // no answer from the donor: not timed

        DonorLatency latency = wire.latencies().get(DONOR.toString());
        // The refused read is answered as soon as its turn comes, before the read started just ahead of it ends.
        assertThat(answers).containsExactly("W[3] ok", "W[3] STALE_VERSION", "R[64] PAGE_OUT_OF_RANGE",
                "R[3,4] v5 x55 v0 x00", "W[9] gone");
        assertThat(latency.writes().count()).isEqualTo(2);
        assertThat(latency.reads().count()).isEqualTo(1);
        assertThat(latency.control().count()).isZero();
        assertThat(wire.replies()).isEqualTo(3);
        assertThat(wire.roundTripNanos()).isPositive();
        assertThat(latency.writes().sumSeconds() + latency.reads().sumSeconds())
                .isCloseTo(wire.roundTripNanos() / 1e9, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void aPageNeverWrittenReadsAsTheZeroPageAtVersionZero() throws IOException {
        read(40);
        drain();
        assertThat(answers).containsExactly("R[40] v0 x00");
    }

    @Test
    void atMostTheInFlightLimitStartsAndTheRestTakeTheirTurn() throws IOException {
        for (int p = 0; p < 40; p++) {
            read(p);
        }
        assertThat(transfers.startReady()).isEqualTo(PageTransfers.REQUESTS_IN_FLIGHT);
        drain();
        assertThat(answers).hasSize(40);
        assertThat(transfers.inFlight()).isZero();
    }

    @Test
    void pagesOutsideTheSlabAndUnknownSlabsAreRefusedWithoutPostingAnything() throws IOException {
        read(SLAB_PAGES);
        PageSlot other = slots.claim();
        other.fillRead(SLAB + 1, new long[] {0}, 1);
        other.readAnswer = (batch, error) -> answers.add("other " + outcome(error));
        transfers.queue(other);
        write(0, 0, 1); // version 0 is never a written page's
        drain();
        assertThat(answers).containsExactly("R[64] PAGE_OUT_OF_RANGE", "other NO_SUCH_SLAB", "W[1] BAD_FRAME");
        assertThat(rdma.posts()).isZero();
    }

    @Test
    void failAllAnswersEveryRequestQueuedOrInFlightOnceAndGivesTheSlotsBack() throws IOException {
        write(1, 1, 1);
        write(1, 2, 2);
        read(3);
        write(1, 3, 1); // waits for the first
        read(2);
        transfers.startReady();
        assertThat(transfers.inFlight()).isEqualTo(3);
        transfers.failAll(new DonorUnavailableException("gone"));
        assertThat(answers).hasSize(5).allMatch(a -> a.endsWith(" gone"));
        assertThat(transfers.inFlight()).isZero();
        List<PageSlot> claimed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            claimed.add(slots.claim());
        }
        assertThat(claimed).extracting(PageSlot::id).allMatch(id -> id < 5); // the same five slots, none new
    }

    @Test
    void overdueNamesTheOldestStepPastTheTimeoutAndACompletionNotInFlightIsAnError() throws IOException {
        read(1);
        transfers.startReady();
        long now = System.nanoTime();
        assertThat(transfers.overdue(now)).isNull();
        assertThat(transfers.overdue(now + Duration.ofSeconds(30).toNanos()))
                .startsWith("no completion of a read of 1 pages of slab 7 within 1000 ms (1 requests in flight; ");
        long id = rdma.posted().get(1).wrId();
        rdma.run();
        transfers.completed(id);
        assertThatThrownBy(() -> transfers.completed(id)).isInstanceOf(IOException.class)
                .hasMessageContaining("that is not in flight");
    }
}
