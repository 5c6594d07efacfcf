package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.SlabList;

import java.util.concurrent.CompletableFuture;

/**
 * One authenticated session with one donor, whatever carries it (TCP or RDMA). Every call is asynchronous: its
 * future completes with the donor's answer, or exceptionally with a {@link DonorException} (the donor refused),
 * {@link DonorUnavailableException} (connection lost or timed out). It always completes, within the request
 * timeout of being sent or when the connection closes: the engine puts no timer of its own on top, so a future
 * left pending hangs the page I/O waiting for it.
 */
public interface DonorConnection extends AutoCloseable {

    DonorAddress address();

    /** What the donor announced when the session opened. */
    HelloOk hello();

    /** The most pages one write or read request may carry on this connection. */
    int maxPagesPerRequest();

    boolean isOpen();

    /** Completes when the connection is closed, by either side or by a failure. */
    CompletableFuture<Void> closed();

    CompletableFuture<DonorStats> stats();

    /**
     * How much each client identity holds on the donor, largest first (for operators). A donor older than this
     * request refuses it with {@code UNSUPPORTED_OPCODE}.
     */
    CompletableFuture<ClientShares> clientShares();

    CompletableFuture<Void> allocateSlab(long slabId, long slabBytes);

    CompletableFuture<Void> freeSlab(long slabId);

    /**
     * Writes {@code count} pages of one slab: {@code source} adds exactly {@code count} pages to the encoder.
     * Completes once the donor has stored all of them; a refused batch stores none.
     */
    CompletableFuture<Void> writePages(long slabId, int count, PageSource source);

    /** Reads pages {@code pageIndexes[0 .. count)} of one slab. The caller must close the result. */
    CompletableFuture<ReceivedPages> readPages(long slabId, long[] pageIndexes, int count);

    /**
     * {@link #writePages(long, int, PageSource)} for the I/O path: {@code answer} is told once, on the thread that
     * ends the request, and never thrown at. A transport built for it allocates nothing per request; this default
     * adapts the future.
     */
    default void writePages(long slabId, int count, PageSource source, WriteAnswer answer) {
        CompletableFuture<Void> written;
        try {
            written = writePages(slabId, count, source);
        } catch (RuntimeException e) {
            answer.written(e);
            return;
        }
        written.whenComplete((ok, err) -> answer.written(err));
    }

    /**
     * {@link #readPages(long, long[], int)} for the I/O path: {@code answer} is told once with the pages, which
     * it may read only during the call, or with why the read failed. Like the write above, never thrown at.
     */
    default void readPages(long slabId, long[] pageIndexes, int count, ReadAnswer answer) {
        CompletableFuture<ReceivedPages> read;
        try {
            read = readPages(slabId, pageIndexes, count);
        } catch (RuntimeException e) {
            answer.pagesRead(null, e);
            return;
        }
        read.whenComplete((received, err) -> {
            if (err != null) {
                answer.pagesRead(null, err);
                return;
            }
            try (ReceivedPages r = received) {
                answer.pagesRead(r.pages(), null);
            }
        });
    }

    /** The slabs this identity owns on the donor (what a restarted client recovers). */
    CompletableFuture<SlabList> listSlabs();

    /** Versions and CRC32Cs of pages {@code firstPage .. firstPage + count} of a slab, without the data. */
    CompletableFuture<PageIndex> readIndex(long slabId, long firstPage, int count);

    /** Round trip time of a HEARTBEAT, in nanoseconds. */
    CompletableFuture<Long> heartbeat();

    /**
     * Who answers the requests the donor sends on this connection (EVICT). Without one, an EVICT is declined
     * ({@code EVICT_FAILED}): a connection that is not an engine's cannot move slabs.
     */
    void onDonorRequests(DonorRequests handler);

    /**
     * Fails every request waiting for an answer with {@link DonorUnavailableException}, without closing the
     * connection: the donor is suspected, and its callers should not wait for it any longer. Late answers are
     * ignored. A transport that cannot tell its requests apart may do nothing (they still end by their timeout).
     */
    default void abandonPending(String why) {
    }

    @Override
    void close();

    /** Requests a donor sends to its client. */
    @FunctionalInterface
    interface DonorRequests {
        /**
         * EVICT: move slab {@code slabId} off this donor within {@code deadlineMillis}, FREE_SLAB it there, then
         * complete with the answer (accepted, or declined with a reason).
         */
        CompletableFuture<EvictReply> evict(long slabId, long deadlineMillis);
    }

    /** The end of a write request: {@code error} is null once the donor stored every page. */
    @FunctionalInterface
    interface WriteAnswer {
        void written(Throwable error);
    }

    /** The end of a read request: the pages (valid only during the call), or why there are none. */
    @FunctionalInterface
    interface ReadAnswer {
        void pagesRead(PageBatch pages, Throwable error);
    }

    /**
     * Fills a write request in place: called on the caller's thread, and again (on the connection's thread) if the
     * request went in a frame with other requests that the donor refused and is sent alone; so it must add the same
     * pages each time, until the request is answered.
     */
    @FunctionalInterface
    interface PageSource {
        void addPagesTo(PageBatchEncoder encoder);
    }
}
