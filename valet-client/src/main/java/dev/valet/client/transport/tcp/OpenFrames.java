package dev.valet.client.transport.tcp;

import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageIndexList;
import io.netty.buffer.ByteBufAllocator;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * The page frames of one connection still open for more requests (CNetMem's hybrid batching, per donor): a
 * request joins the newest open frame of its slab when that frame has its opcode and room for its pages, else opens
 * one. Frames close when the event loop takes them (everything open when it runs: no delay is added to wait for
 * company), when full, or when the slots are all taken; closed frames wait in {@link #pollClosed} for whoever closed
 * them to send them, outside the lock. Any thread adds; one lock guards the slots.
 *
 * <p>Order: frames close in the order they opened, and a frame that closes early takes every older one with it, so
 * the donor sees the requests that touch one slab in the order they were made (a read made before a write of its
 * page is never served after it, nor a write after a newer write of the same page).
 */
final class OpenFrames {
    /** Slabs with a frame open at once, per connection and opcode mix. */
    static final int SLOTS = 8;
    /**
     * The most pages requests merged into one frame carry, and the room a new frame's buffer has: small requests
     * merge within it, and a frame's buffer never grows (that would copy the pages already in it). Four pages keep
     * the buffer (16 KiB) and the donor's reply to merged reads in netty's small size classes: larger buffers cost
     * the allocator microseconds each (bump allocation in large chunks), more than the frames saved. A request of
     * more pages goes alone in a frame of its own size, as before merging.
     */
    static final int ROOM_PAGES = 4;

    private final PageFrame[] open = new PageFrame[SLOTS];
    private int openCount;
    private final ArrayDeque<PageFrame> closed = new ArrayDeque<>();
    private final PendingRequests pool;
    private final LongSupplier ids;

    OpenFrames(PendingRequests pool, LongSupplier ids) {
        this.pool = pool;
        this.ids = ids;
    }

    /**
     * Puts {@code m} in a frame: the newest open one of its slab if that has its opcode and room for its pages within
     * {@code maxPages} and its buffer (and, for a write, none of its pages), else a new one, which closes at once if
     * it has no room for another (a large request). {@code alone}: in a frame of its own, closed at once (a member
     * of a refused merged frame, sent again).
     */
    synchronized void add(PageRequest m, int maxPages, boolean alone, ByteBufAllocator alloc) {
        Opcode op = m.isWrite() ? Opcode.WRITE_PAGES : Opcode.READ_PAGES;
        if (!alone) {
            for (int i = openCount - 1; i >= 0; i--) {
                PageFrame f = open[i];
                if (f.slabId != m.slabId) {
                    continue;
                }
                if (f.isWrite() == m.isWrite()) {
                    if (f.pageCount + m.count <= Math.min(maxPages, ROOM_PAGES) && f.hasRoomFor(m) && f.add(m)) {
                        if (f.pageCount == maxPages) {
                            closeThrough(i);
                        }
                        return;
                    }
                    closeThrough(i); // full, or a write of a page it has: it goes first, m opens the next
                }
                break; // m goes after the newest frame of its slab
            }
        }
        int pages = alone ? m.count : Math.min(maxPages, Math.max(m.count, ROOM_PAGES));
        int bytes = m.isWrite() ? PageBatchEncoder.frameSize(pages) : PageIndexList.frameSize(pages);
        PageFrame f = pool.pageFrame().begin(op, ids.getAsLong(), m.slabId, alloc.buffer(bytes));
        try {
            f.add(m);
        } catch (RuntimeException e) {
            f.discard();
            f.failed(e); // no member yet: only goes back to the pool; the caller tells m
            throw e;
        }
        if (alone || f.pageCount == maxPages || f.pageCount >= ROOM_PAGES) {
            closeThrough(openCount - 1); // every frame opened before it goes first
            closed.addLast(f);
            return;
        }
        if (openCount == SLOTS) {
            closeThrough(0);
        }
        open[openCount++] = f;
    }

    /** Closes every open frame (the event loop is about to write). */
    synchronized void closeAll() {
        closeThrough(openCount - 1);
    }

    /** A closed frame to send, or null. */
    synchronized PageFrame pollClosed() {
        return closed.pollFirst();
    }

    /** Closes the frames in slots {@code 0 .. slot}, oldest first; the younger ones move down. */
    private void closeThrough(int slot) {
        int n = slot + 1;
        for (int i = 0; i < n; i++) {
            closed.addLast(open[i]);
        }
        System.arraycopy(open, n, open, 0, openCount - n);
        for (int i = openCount - n; i < openCount; i++) {
            open[i] = null;
        }
        openCount -= n;
    }
}
