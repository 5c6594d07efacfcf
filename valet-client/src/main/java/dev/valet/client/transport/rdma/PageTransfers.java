package dev.valet.client.transport.rdma;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.RequestTiming;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.RemoteSlab;
import dev.valet.common.rdma.SendQueue;
import dev.valet.common.rdma.SendWorkRequests;
import dev.valet.common.rdma.VerbsLayout;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The page requests of one queue pair, on its connection's thread: several in flight at once, each a chain of
 * work requests posted with one call and ended by one signaled completion. A write is two steps: READs of the
 * stored metadata entries (the version check a TCP donor makes), then the WRITEs of data and metadata with a
 * 1-byte READ behind them (an RC responder executes a READ only after the WRITEs before it, so its completion
 * proves they are placed). A read is one step: READs of metadata and data.
 *
 * <p>Order: requests start in the order they were queued, and a request that touches a page of a write still in
 * flight waits for that write (with every request behind it): a read then sees the write, and a write's version
 * check sees the write before it, as on one TCP connection.
 */
final class PageTransfers {
    private static final Logger LOG = LoggerFactory.getLogger(PageTransfers.class);
    /** Most page requests in flight on one queue pair. */
    static final int REQUESTS_IN_FLIGHT = 32;
    /** Work request ids of page requests: this tag, the slot's id, the step. */
    private static final long PAGE_WR = 3L << 62;

    /** Where requests find their slab's remote address (REGISTER_SLAB the first time: a control round trip). */
    interface RemoteSlabs {
        RemoteSlab remote(long slabId) throws IOException;
    }

    private final DonorAddress address;
    private final SendQueue qp;
    private final SendWorkRequests wrs;
    private final SlotPool slots;
    private final RemoteSlabs slabs;
    private final AdaptiveTimeout timeout;
    private final RequestTiming timing;
    private final int sendQueueWrs;
    private final PageSlot[] inFlight = new PageSlot[REQUESTS_IN_FLIGHT];
    private int inFlightCount;
    private int reservedWrs;
    private PageSlot first;
    private PageSlot last;

    /**
     * @param timeout      how long one step may wait for its completion (each step's round trip refines it)
     * @param timing       where each request's round trip is recorded, first post to last completion
     * @param sendQueueWrs the work requests page requests may have posted at once (the send queue, less control)
     */
    PageTransfers(DonorAddress address, SendQueue qp, SendWorkRequests wrs, SlotPool slots, RemoteSlabs slabs,
                  AdaptiveTimeout timeout, RequestTiming timing, int sendQueueWrs) {
        this.address = address;
        this.qp = qp;
        this.wrs = wrs;
        this.slots = slots;
        this.slabs = slabs;
        this.timeout = timeout;
        this.timing = timing;
        this.sendQueueWrs = sendQueueWrs;
    }

    /** Work requests a request of {@code pages} pages may need at once. */
    static int workRequests(int pages) {
        return 2 * pages + 1;
    }

    static boolean isPageWr(long wrId) {
        return (wrId & (3L << 62)) == PAGE_WR;
    }

    int inFlight() {
        return inFlightCount;
    }

    /** Queues a request behind the ones not started yet. */
    void queue(PageSlot slot) {
        slot.next = null;
        if (last == null) {
            first = slot;
        } else {
            last.next = slot;
        }
        last = slot;
    }

    /** Starts queued requests while there is room and none waits for a write; returns how many started. */
    int startReady() throws IOException {
        int started = 0;
        while (first != null && inFlightCount < REQUESTS_IN_FLIGHT
                && reservedWrs + workRequests(first.count) <= sendQueueWrs && !waitsForWrite(first)) {
            PageSlot slot = first;
            first = slot.next;
            if (first == null) {
                last = null;
            }
            slot.next = null;
            start(slot);
            started++;
        }
        return started;
    }

    private boolean waitsForWrite(PageSlot slot) {
        for (int i = 0; i < inFlightCount; i++) {
            if (inFlight[i].op == PageSlot.WRITE && slot.overlaps(inFlight[i])) {
                return true;
            }
        }
        return false;
    }

    private void start(PageSlot slot) throws IOException {
        RemoteSlab r;
        try {
            r = slabs.remote(slot.slabId);
            for (int k = 0; k < slot.count; k++) {
                if (slot.pages[k] < 0 || slot.pages[k] >= r.pageCount()) {
                    throw new DonorException(address.toString(), ErrorCode.PAGE_OUT_OF_RANGE, "page "
                            + slot.pages[k] + " outside slab " + slot.slabId + " (" + r.pageCount() + " pages)");
                }
                long version = slot.version(k);
                if (slot.op == PageSlot.WRITE && version <= 0) {
                    throw new DonorException(address.toString(), ErrorCode.BAD_FRAME, "page " + slot.pages[k]
                            + " has version " + version);
                }
            }
        } catch (DonorException e) {
            answer(slot, e);
            return;
        }
        slot.remote = r;
        slot.startedAtNanos = System.nanoTime();
        inFlight[inFlightCount++] = slot;
        reservedWrs += workRequests(slot.count);
        if (slot.op == PageSlot.WRITE) {
            postCheck(slot);
        } else {
            postReads(slot);
        }
    }

    /** A write's first step: its pages' stored metadata entries, read into the slot. */
    private void postCheck(PageSlot slot) throws IOException {
        RemoteSlab r = slot.remote;
        for (int k = 0; k < slot.count; k++) {
            wrs.set(k, wrId(slot, PageSlot.CHECKING), VerbsLayout.IBV_WR_RDMA_READ, k == slot.count - 1,
                    slot.address() + slot.storedEntryIndex(k), PageBatch.ENTRY_HEADER_SIZE, slot.lkey(),
                    r.metadataAddress(slot.pages[k]), r.rkey());
        }
        post(slot, PageSlot.CHECKING, slot.count);
    }

    /** A write's second step: data and metadata of every page, then the READ that proves them placed. */
    private void postWrites(PageSlot slot) throws IOException {
        RemoteSlab r = slot.remote;
        int lkey = slot.lkey();
        for (int k = 0; k < slot.count; k++) {
            long local = slot.address() + PageSlot.entryIndex(k);
            long pageIndex = slot.pages[k];
            wrs.set(2 * k, 0, VerbsLayout.IBV_WR_RDMA_WRITE, false, local + PageBatch.ENTRY_HEADER_SIZE,
                    FrameHeader.PAGE_SIZE, lkey, r.dataAddress(pageIndex), r.rkey());
            wrs.set(2 * k + 1, 0, VerbsLayout.IBV_WR_RDMA_WRITE, false, local, PageBatch.ENTRY_HEADER_SIZE, lkey,
                    r.metadataAddress(pageIndex), r.rkey());
        }
        wrs.set(2 * slot.count, wrId(slot, PageSlot.MOVING), VerbsLayout.IBV_WR_RDMA_READ, true,
                slot.scratchAddress(), 1, lkey, r.metadataAddress(0), r.rkey());
        post(slot, PageSlot.MOVING, 2 * slot.count + 1);
    }

    private void postReads(PageSlot slot) throws IOException {
        RemoteSlab r = slot.remote;
        int lkey = slot.lkey();
        int n = slot.count;
        for (int k = 0; k < n; k++) {
            long local = slot.address() + PageSlot.entryIndex(k);
            long pageIndex = slot.pages[k];
            wrs.set(2 * k, 0, VerbsLayout.IBV_WR_RDMA_READ, false, local, PageBatch.ENTRY_HEADER_SIZE, lkey,
                    r.metadataAddress(pageIndex), r.rkey());
            wrs.set(2 * k + 1, k == n - 1 ? wrId(slot, PageSlot.MOVING) : 0, VerbsLayout.IBV_WR_RDMA_READ,
                    k == n - 1, local + PageBatch.ENTRY_HEADER_SIZE, FrameHeader.PAGE_SIZE, lkey,
                    r.dataAddress(pageIndex), r.rkey());
        }
        post(slot, PageSlot.MOVING, 2 * n);
    }

    private static long wrId(PageSlot slot, int phase) {
        return PAGE_WR | ((long) slot.id() << 4) | phase;
    }

    private void post(PageSlot slot, int phase, int n) throws IOException {
        slot.phase = phase;
        slot.postedAtNanos = System.nanoTime();
        wrs.chain(n);
        int err = qp.postSend(wrs.address(0));
        if (err != 0) {
            throw new IOException("ibv_post_send of " + n + " work requests failed: errno " + err);
        }
    }

    /** The signaled completion {@code wrId} of a page request's step: the next step, or its answer. */
    void completed(long wrId) throws IOException {
        PageSlot slot = slots.byId((int) ((wrId & ~PAGE_WR) >>> 4));
        int phase = (int) (wrId & 0xF);
        if (slot == null || slot.phase != phase || indexOf(slot) < 0) {
            throw new IOException("completion of work request " + Long.toHexString(wrId) + " that is not in flight");
        }
        long now = System.nanoTime();
        timeout.observe(now - slot.postedAtNanos);
        if (slot.op == PageSlot.READ) {
            timing.answered(Opcode.READ_PAGES_OK, slot.startedAtNanos, now);
            readDone(slot);
        } else if (phase == PageSlot.CHECKING) {
            checked(slot, now);
        } else {
            timing.answered(Opcode.WRITE_PAGES_OK, slot.startedAtNanos, now);
            end(slot);
            answer(slot, null);
        }
    }

    /**
     * STALE_VERSION as a TCP donor enforces it, since this donor's CPU sees no one-sided write: the write is
     * refused, nothing written, if any stored version is newer than the one being written (an equal one is fine:
     * a retry). Writes of the same pages before it have completed (see the class comment); other connections of
     * the same identity are not covered.
     */
    private void checked(PageSlot slot, long nowNanos) throws IOException {
        ByteBuf buf = slot.buffer();
        for (int k = 0; k < slot.count; k++) {
            long stored = buf.getLong(slot.storedEntryIndex(k) + 8);
            long version = slot.version(k);
            if (stored > version) {
                timing.answered(Opcode.WRITE_PAGES_OK, slot.startedAtNanos, nowNanos); // refused, as over TCP
                end(slot);
                answer(slot, new DonorException(address.toString(), ErrorCode.STALE_VERSION, "page "
                        + slot.pages[k] + " of slab " + slot.slabId + ": version " + version
                        + " is older than the stored " + stored));
                return;
            }
        }
        postWrites(slot);
    }

    /** Makes the landed entries a READ_PAGES_OK body, as a TCP donor would send it, and answers. */
    private void readDone(PageSlot slot) {
        end(slot);
        ByteBuf buf = slot.buffer();
        int body = FrameHeader.SIZE;
        buf.setLong(body, slot.slabId);
        buf.setInt(body + 8, slot.count);
        for (int k = 0; k < slot.count; k++) {
            int entry = PageSlot.entryIndex(k);
            if (buf.getLong(entry + 8) == 0) {
                // Never written: the donor's metadata entry is still zeros; say so as a TCP donor would.
                buf.setInt(entry, (int) slot.pages[k]);
                buf.setInt(entry + 4, PageChecksum.ZERO_PAGE_CRC);
            } else if (buf.getUnsignedInt(entry) != slot.pages[k]) {
                answer(slot, new DonorException(address.toString(), ErrorCode.INTERNAL, "slab " + slot.slabId
                        + " page " + slot.pages[k] + " holds the metadata of page " + buf.getUnsignedInt(entry)));
                return;
            }
        }
        buf.setIndex(body, body + (int) PageBatch.bodySize(slot.count));
        PageBatch pages = slot.batch().wrap(buf, "RDMA read");
        if (slot.readFuture != null) {
            slot.readFuture.complete(new ReceivedPages(pages, slot)); // its caller releases the slot
            return;
        }
        try {
            slot.readAnswer.pagesRead(pages, null);
        } catch (RuntimeException e) {
            LOG.warn("{}: a read's answer failed", address, e);
        } finally {
            slot.release();
        }
    }

    private int indexOf(PageSlot slot) {
        for (int i = 0; i < inFlightCount; i++) {
            if (inFlight[i] == slot) {
                return i;
            }
        }
        return -1;
    }

    /** Takes a request out of flight (its answer follows). */
    private void end(PageSlot slot) {
        int i = indexOf(slot);
        inFlight[i] = inFlight[--inFlightCount];
        inFlight[inFlightCount] = null;
        reservedWrs -= workRequests(slot.count);
    }

    /** Fails a request that was never started. */
    void fail(PageSlot slot, Throwable why) {
        answer(slot, why);
    }

    /** Tells a request's caller it failed ({@code error}), or for a write also that it succeeded (null). */
    private void answer(PageSlot slot, Throwable error) {
        try {
            if (slot.op == PageSlot.WRITE) {
                var a = slot.writeAnswer;
                slot.release();
                a.written(error);
            } else if (slot.readFuture != null) {
                var f = slot.readFuture;
                slot.release();
                f.completeExceptionally(error);
            } else {
                var a = slot.readAnswer;
                slot.release();
                a.pagesRead(null, error);
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: a request's answer failed", address, e);
        }
    }

    /** The oldest step in flight past the request timeout, as a message, or null. */
    String overdue(long nowNanos) {
        long limit = timeout.nanos();
        for (int i = 0; i < inFlightCount; i++) {
            long waited = nowNanos - inFlight[i].postedAtNanos;
            if (waited > limit) {
                PageSlot s = inFlight[i];
                return "no completion of a " + (s.op == PageSlot.READ ? "read" : "write") + " of " + s.count
                        + " pages of slab " + s.slabId + " within " + limit / 1_000_000 + " ms (" + inFlightCount
                        + " requests in flight; " + qp.describe() + ")";
            }
        }
        return null;
    }

    /** Fails every request queued or in flight (the connection is gone: call after its queue pair is closed). */
    void failAll(Throwable why) {
        while (inFlightCount > 0) {
            PageSlot s = inFlight[inFlightCount - 1];
            end(s);
            answer(s, why);
        }
        for (PageSlot s = first; s != null; ) {
            PageSlot next = s.next;
            answer(s, why);
            s = next;
        }
        first = null;
        last = null;
    }
}
