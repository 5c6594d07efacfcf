package dev.valet.client.transport.rdma;

import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

import java.util.concurrent.BlockingQueue;

/**
 * One registered buffer for one page request: a write is encoded into it as a WRITE_PAGES frame (the RDMA WRITEs
 * go out from its entries), a read lands in it as a READ_PAGES_OK body (the RDMA READs scatter into its entries).
 * Reused for ever: its views, encoder and flyweight are made once; releasing it gives it back to its pool.
 */
final class PageSlot extends AbstractReferenceCounted {
    private final long address;
    private final ByteBuf buffer;
    private final int scratchOffset;
    private final int versionsOffset;
    private final PageBatchEncoder encoder = new PageBatchEncoder();
    private final PageBatch batch = new PageBatch();
    private final int lkey;
    private final BlockingQueue<PageSlot> pool;

    /**
     * {@code buffer} views {@code [address, address + capacity)}, registered with {@code lkey}; the last 8 bytes
     * are the flush READ's target, the {@code versionBytes} before them receive the stored metadata entries a
     * write checks first.
     */
    PageSlot(long address, ByteBuf buffer, int lkey, int versionBytes, BlockingQueue<PageSlot> pool) {
        this.address = address;
        this.buffer = buffer;
        this.lkey = lkey;
        this.scratchOffset = buffer.capacity() - 8;
        this.versionsOffset = buffer.capacity() - 8 - versionBytes;
        this.pool = pool;
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

    @Override
    protected void deallocate() {
        pool.offer(this);
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        return this;
    }
}
