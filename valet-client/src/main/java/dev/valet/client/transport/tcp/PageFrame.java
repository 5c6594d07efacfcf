package dev.valet.client.transport.tcp;

import dev.valet.client.transport.DonorException;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PagesAck;
import dev.valet.common.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * One WRITE_PAGES or READ_PAGES frame and the page requests it carries: the requests of several callers for the
 * same slab that were ready together ({@link OpenFrames}). Built in place while open, then sent under one request
 * id; its reply is shared out: every member is told, a read with its own range of the pages. A refused frame of
 * several members is not shared out (the refusal may be one member's alone: a stale page, a bad checksum): each
 * member is sent again in a frame of its own and gets its own answer. Pooled, like its members.
 */
final class PageFrame extends PendingRequest {
    /** Sends a member again, alone (a merged frame was refused). */
    interface Resender {
        void resendAlone(PageRequest member);
    }

    final PageBatchEncoder encoder = new PageBatchEncoder();
    private final PageBatch pages = new PageBatch();
    private final PendingRequests pool;
    private final Resender resender;
    ByteBuf out;
    long slabId;
    /** Pages in the frame so far, and (reads) where the count and the frame begin, to patch at the end. */
    int pageCount;
    private int readCountIndex;
    private int readFrameStart;
    PageRequest[] members = new PageRequest[4];
    int memberCount;

    PageFrame(PendingRequests pool, Resender resender) {
        this.pool = pool;
        this.resender = resender;
    }

    /** Begins a frame of {@code op} for {@code slabId} under request {@code id} in {@code out}. */
    PageFrame begin(Opcode op, long id, long slabId, ByteBuf out) {
        this.id = id;
        this.slabId = slabId;
        this.out = out;
        this.pageCount = 0;
        this.memberCount = 0;
        if (op == Opcode.WRITE_PAGES) {
            this.expected = Opcode.WRITE_PAGES_OK;
            encoder.begin(out, Opcode.WRITE_PAGES, id, slabId);
        } else {
            this.expected = Opcode.READ_PAGES_OK;
            readFrameStart = Frames.begin(out, Opcode.READ_PAGES, id);
            out.writeLong(slabId);
            readCountIndex = out.writerIndex();
            out.writeInt(0);
        }
        return this;
    }

    boolean isWrite() {
        return expected == Opcode.WRITE_PAGES_OK;
    }

    /** Whether {@code m}'s pages fit in the buffer without growing it. */
    boolean hasRoomFor(PageRequest m) {
        return out.writableBytes() >= m.count * (isWrite() ? PageBatch.ENTRY_SIZE : 4);
    }

    /**
     * Adds {@code m}'s pages; false (and nothing added) if a write would name a page already in the frame: the
     * donor refuses a batch that names a page twice.
     */
    boolean add(PageRequest m) {
        if (isWrite()) {
            int mark = encoder.writerIndex();
            int before = encoder.count();
            m.source.addPagesTo(encoder);
            int added = encoder.count() - before;
            if (added != m.count) {
                encoder.rewind(before, mark);
                throw new IllegalArgumentException("page source added " + added + " pages, not " + m.count);
            }
            if (before > 0 && namesAPageTwice(before, mark)) {
                encoder.rewind(before, mark);
                return false;
            }
        } else {
            out.ensureWritable(4 * m.count);
            for (int i = 0; i < m.count; i++) {
                out.writeInt((int) m.indexes[i]);
            }
        }
        if (memberCount == members.length) {
            members = java.util.Arrays.copyOf(members, 2 * memberCount); // grows to the most members seen, once
        }
        members[memberCount++] = m;
        pageCount += m.count;
        return true;
    }

    /** Whether a page added from {@code mark} on is also among the first {@code before} pages. */
    private boolean namesAPageTwice(int before, int mark) {
        int added = encoder.count() - before;
        for (int a = 0; a < added; a++) {
            int page = out.getInt(mark + a * PageBatch.ENTRY_SIZE);
            for (int e = 0, at = mark - before * PageBatch.ENTRY_SIZE; e < before; e++, at += PageBatch.ENTRY_SIZE) {
                if (out.getInt(at) == page) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Patches the frame's counts and length; the frame is ready to send. */
    ByteBuf finish() {
        if (isWrite()) {
            encoder.finish();
        } else {
            out.setInt(readCountIndex, pageCount);
            Frames.finish(out, readFrameStart);
        }
        ByteBuf frame = out;
        out = null;
        return frame;
    }

    @Override
    void replied(Frame frame) {
        if (isWrite()) {
            PagesAck.check(frame, slabId, pageCount);
            for (int i = 0; i < memberCount; i++) {
                members[i].written(null);
            }
        } else {
            pages.wrap(frame, "READ_PAGES_OK");
            if (pages.slabId() != slabId || pages.count() != pageCount) {
                throw ProtocolException.badBody("READ_PAGES_OK for slab " + pages.slabId() + " x" + pages.count()
                        + ", expected slab " + slabId + " x" + pageCount);
            }
            for (int i = 0, from = 0; i < memberCount; from += members[i].count, i++) {
                members[i].read(pages, from, null);
            }
            pages.clear();
        }
        recycle();
    }

    @Override
    void failed(Throwable cause) {
        boolean alone = memberCount == 1 || !(cause instanceof DonorException);
        for (int i = 0; i < memberCount; i++) {
            if (alone) {
                members[i].failed(cause);
            } else {
                resender.resendAlone(members[i]);
            }
        }
        recycle();
    }

    private void recycle() {
        for (int i = 0; i < memberCount; i++) {
            members[i] = null;
        }
        memberCount = 0;
        pool.recycle(this);
    }

    /** Releases a frame that will not be sent (its members are told by the caller). */
    void discard() {
        if (out != null) {
            out.release();
            out = null;
        }
    }
}
