package dev.valet.client.transport.tcp;

import dev.valet.client.transport.DonorConnection.ReadAnswer;
import dev.valet.client.transport.DonorConnection.WriteAnswer;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PagesAck;
import dev.valet.common.protocol.ProtocolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A WRITE_PAGES or READ_PAGES on the I/O path: one of a pool per connection ({@link PendingRequests}), reused
 * request after request, so a page request allocates nothing. Its answer is told exactly once, then it goes back
 * to the pool.
 */
final class PageRequest extends PendingRequest {
    private static final Logger LOG = LoggerFactory.getLogger(PageRequest.class);

    final PageBatchEncoder encoder = new PageBatchEncoder();
    private final PageBatch pages = new PageBatch();
    private final PendingRequests pool;
    private long slabId;
    private int count;
    private WriteAnswer writeAnswer;
    private ReadAnswer readAnswer;

    PageRequest(PendingRequests pool) {
        this.pool = pool;
    }

    PageRequest forWrite(long slabId, int count, WriteAnswer answer) {
        this.expected = Opcode.WRITE_PAGES_OK;
        this.slabId = slabId;
        this.count = count;
        this.writeAnswer = answer;
        return this;
    }

    PageRequest forRead(long slabId, int count, ReadAnswer answer) {
        this.expected = Opcode.READ_PAGES_OK;
        this.slabId = slabId;
        this.count = count;
        this.readAnswer = answer;
        return this;
    }

    @Override
    void replied(Frame frame) {
        if (writeAnswer != null) {
            PagesAck.check(frame, slabId, count);
        } else {
            pages.wrap(frame, "READ_PAGES_OK");
            if (pages.slabId() != slabId || pages.count() != count) {
                throw ProtocolException.badBody("READ_PAGES_OK for slab " + pages.slabId() + " x" + pages.count()
                        + ", expected slab " + slabId + " x" + count);
            }
        }
        tell(null);
    }

    @Override
    void failed(Throwable cause) {
        tell(cause);
    }

    private void tell(Throwable error) {
        WriteAnswer w = writeAnswer;
        ReadAnswer r = readAnswer;
        writeAnswer = null;
        readAnswer = null;
        try {
            if (w != null) {
                w.written(error);
            } else if (r != null) {
                r.pagesRead(error == null ? pages : null, error);
            }
        } catch (RuntimeException e) {
            LOG.error("{}: the answer to request {} threw", pool, id, e);
        } finally {
            pages.clear();
            pool.recycle(this);
        }
    }
}
