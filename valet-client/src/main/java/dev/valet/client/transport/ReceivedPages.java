package dev.valet.client.transport;

import dev.valet.common.protocol.PageBatch;
import io.netty.util.ReferenceCounted;

/** The pages of a READ_PAGES_OK, read in place from the receive buffer; {@link #close()} gives the buffer back. */
public final class ReceivedPages implements AutoCloseable {
    private final PageBatch pages;
    private final ReferenceCounted owner;

    public ReceivedPages(PageBatch pages, ReferenceCounted owner) {
        this.pages = pages;
        this.owner = owner;
    }

    public PageBatch pages() {
        return pages;
    }

    @Override
    public void close() {
        owner.release();
    }
}
