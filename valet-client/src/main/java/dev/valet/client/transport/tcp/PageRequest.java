package dev.valet.client.transport.tcp;

import dev.valet.client.transport.DonorConnection.PageSource;
import dev.valet.client.transport.DonorConnection.ReadAnswer;
import dev.valet.client.transport.DonorConnection.WriteAnswer;
import dev.valet.common.protocol.PageBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One caller's WRITE_PAGES or READ_PAGES on the I/O path, a member of the {@link PageFrame} that carries it (alone
 * or beside other callers' requests for the same slab). One of a pool per connection ({@link PendingRequests}),
 * reused request after request, so a page request allocates nothing. Its answer is told exactly once, then it
 * goes back to the pool.
 */
final class PageRequest {
    private static final Logger LOG = LoggerFactory.getLogger(PageRequest.class);

    private final PendingRequests pool;
    /** This request's share of a merged reply. */
    private final PageBatch share = new PageBatch();
    long slabId;
    int count;
    /** A write's pages: added to each frame the request goes in (again if it is resent alone). */
    PageSource source;
    /** A read's page indexes, copied (the caller's array may change once the call returns); grown, never shrunk. */
    long[] indexes = new long[0];
    private WriteAnswer writeAnswer;
    private ReadAnswer readAnswer;

    PageRequest(PendingRequests pool) {
        this.pool = pool;
    }

    boolean isWrite() {
        return writeAnswer != null;
    }

    PageRequest forWrite(long slabId, int count, PageSource source, WriteAnswer answer) {
        this.slabId = slabId;
        this.count = count;
        this.source = source;
        this.writeAnswer = answer;
        return this;
    }

    PageRequest forRead(long slabId, long[] pageIndexes, int count, ReadAnswer answer) {
        this.slabId = slabId;
        this.count = count;
        if (indexes.length < count) {
            indexes = new long[Math.max(count, 2 * indexes.length)];
        }
        System.arraycopy(pageIndexes, 0, indexes, 0, count);
        this.readAnswer = answer;
        return this;
    }

    /** The frame that carried this request was answered: with success, or with {@code error}. */
    void written(Throwable error) {
        WriteAnswer w = writeAnswer;
        writeAnswer = null;
        source = null;
        try {
            w.written(error);
        } catch (RuntimeException e) {
            LOG.error("{}: the answer to a write of slab {} threw", pool, slabId, e);
        } finally {
            pool.recycle(this);
        }
    }

    /** The frame was answered: this request's pages are entries {@code from .. from + count} of {@code all}. */
    void read(PageBatch all, int from, Throwable error) {
        ReadAnswer r = readAnswer;
        readAnswer = null;
        try {
            r.pagesRead(error == null ? share.range(all, from, count) : null, error);
        } catch (RuntimeException e) {
            LOG.error("{}: the answer to a read of slab {} threw", pool, slabId, e);
        } finally {
            share.clear();
            pool.recycle(this);
        }
    }

    /** Tells this request that it failed, whatever it was. */
    void failed(Throwable error) {
        if (isWrite()) {
            written(error);
        } else {
            read(null, 0, error);
        }
    }
}
