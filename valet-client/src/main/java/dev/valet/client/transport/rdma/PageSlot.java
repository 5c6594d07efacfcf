package dev.valet.client.transport.rdma;

import dev.valet.client.transport.DonorConnection.PageSource;
import dev.valet.client.transport.DonorConnection.ReadAnswer;
import dev.valet.client.transport.DonorConnection.WriteAnswer;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.RemoteSlab;
import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

import java.util.concurrent.CompletableFuture;

/**
 * One registered buffer and the state of the one page request it carries: a write is encoded into it as a
 * WRITE_PAGES frame (the RDMA WRITEs go out from its entries), a read lands in it as a READ_PAGES_OK body (the RDMA
 * READs scatter into its entries). Reused for ever: its views, encoder, flyweight and page list are made once;
 * releasing it gives it back to its pool. The caller fills the request fields, then only the connection's thread
 * touches them until the request is answered.
 */
final class PageSlot extends AbstractReferenceCounted {
    static final int READ = 1;
    static final int WRITE = 2;
    /** A write's first step: READs of the stored metadata entries, for the version check. */
    static final int CHECKING = 1;
    /** A write's WRITEs and the READ behind them, or a read's READs. */
    static final int MOVING = 2;
    /** Where the page entries start: a frame header and a batch header in front, as in a WRITE_PAGES frame. */
    private static final int ENTRIES = FrameHeader.SIZE + PageBatch.HEADER_SIZE;

    private final int id;
    private final long address;
    private final ByteBuf buffer;
    private final int scratchOffset;
    private final int versionsOffset;
    private final PageBatchEncoder encoder = new PageBatchEncoder();
    private final PageBatch batch = new PageBatch();
    private final int lkey;
    private final SlotPool pool;

    // ---- the request carried
    int op;
    long slabId;
    int count;
    /** The request's page indexes {@code [0, count)}. */
    final long[] pages;
    WriteAnswer writeAnswer;
    ReadAnswer readAnswer;
    /** For the future form of a read: completed with the pages, and the slot, which its caller then releases. */
    CompletableFuture<ReceivedPages> readFuture;
    RemoteSlab remote;
    int phase;
    /** When the request's first work request was posted: its round trip runs from here. */
    long startedAtNanos;
    /** When its current step was posted: the step's timeout runs from here. */
    long postedAtNanos;
    /** The next slot in the connection's queue of requests not started yet. */
    PageSlot next;

    /**
     * {@code buffer} views {@code [address, address + capacity)}, registered with {@code lkey}; the last 8 bytes
     * are the flush READ's target, the {@code versionBytes} before them receive the stored metadata entries a
     * write checks first.
     */
    PageSlot(int id, long address, ByteBuf buffer, int lkey, int maxPages, SlotPool pool) {
        this.id = id;
        this.address = address;
        this.buffer = buffer;
        this.lkey = lkey;
        this.pages = new long[maxPages];
        this.scratchOffset = buffer.capacity() - 8;
        this.versionsOffset = buffer.capacity() - 8 - maxPages * PageBatch.ENTRY_HEADER_SIZE;
        this.pool = pool;
    }

    /** Bytes a slot for {@code maxPages} pages needs (whole 4 KiB pages). */
    static int bytesFor(int maxPages) {
        return (PageBatchEncoder.frameSize(maxPages) + maxPages * PageBatch.ENTRY_HEADER_SIZE + 8 + 4095)
                / 4096 * 4096;
    }

    /** This slot's number in its pool: what its work request ids carry. */
    int id() {
        return id;
    }

    long address() {
        return address;
    }

    int lkey() {
        return lkey;
    }

    ByteBuf buffer() {
        return buffer;
    }

    long scratchAddress() {
        return address + scratchOffset;
    }

    /** Where stored metadata entry {@code k} of a write's pages is read to (index into {@link #buffer()}). */
    int storedEntryIndex(int k) {
        return versionsOffset + k * PageBatch.ENTRY_HEADER_SIZE;
    }

    PageBatchEncoder encoder() {
        return encoder;
    }

    PageBatch batch() {
        return batch;
    }

    /** Taken from the pool: one reference, held by the request. */
    PageSlot claim() {
        setRefCnt(1);
        buffer.clear();
        return this;
    }

    /**
     * Makes this slot a write of {@code count} pages of slab {@code slabId}: {@code source} encodes them into the
     * slot as a WRITE_PAGES frame (the RDMA WRITEs go out from its entries). Throws if it added another number.
     */
    void fillWrite(long slabId, int count, PageSource source) {
        PageBatchEncoder e = encoder.begin(buffer, Opcode.WRITE_PAGES, 0, slabId);
        source.addPagesTo(e);
        if (e.count() != count) {
            throw new IllegalArgumentException("page source added " + e.count() + " pages, not " + count);
        }
        e.finish();
        for (int k = 0; k < count; k++) {
            pages[k] = buffer.getUnsignedInt(entryIndex(k));
        }
        fill(WRITE, slabId, count);
    }

    /** Makes this slot a read of pages {@code pageIndexes[0 .. count)} of slab {@code slabId}. */
    void fillRead(long slabId, long[] pageIndexes, int count) {
        System.arraycopy(pageIndexes, 0, pages, 0, count);
        fill(READ, slabId, count);
    }

    private void fill(int op, long slabId, int count) {
        this.op = op;
        this.slabId = slabId;
        this.count = count;
    }

    /** The version a write carries for its page {@code k}. */
    long version(int k) {
        return buffer.getLong(entryIndex(k) + 8);
    }

    /** Index into {@link #buffer()} of page entry {@code k} (metadata, then data), for writes and reads alike. */
    static int entryIndex(int k) {
        return ENTRIES + k * PageBatch.ENTRY_SIZE;
    }

    /** Whether this request and {@code other} touch a page in common. */
    boolean overlaps(PageSlot other) {
        if (other.slabId != slabId) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < other.count; j++) {
                if (pages[i] == other.pages[j]) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    protected void deallocate() {
        writeAnswer = null;
        readAnswer = null;
        readFuture = null;
        remote = null;
        next = null;
        pool.free(this);
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        return this;
    }
}
