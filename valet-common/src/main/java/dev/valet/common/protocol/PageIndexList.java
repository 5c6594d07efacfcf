package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Flyweight over the body of READ_PAGES: which pages of one slab to read.
 *
 * <pre>
 *  0  8  slabId
 *  8  4  count        1 .. (what fits in one READ_PAGES_OK reply)
 * 12  -  count x u32 pageIndex
 * </pre>
 */
public final class PageIndexList {
    public static final int HEADER_SIZE = 12;

    private ByteBuf buffer;
    private int base;
    private int count;

    /** Writes a whole READ_PAGES frame for {@code indexes[0 .. count)}. */
    public static void encode(ByteBuf out, long requestId, long slabId, long[] indexes, int count) {
        int start = Frames.begin(out, Opcode.READ_PAGES, requestId);
        out.writeLong(slabId);
        out.writeInt(count);
        for (int i = 0; i < count; i++) {
            out.writeInt((int) indexes[i]);
        }
        Frames.finish(out, start);
    }

    /** The frame size of a READ_PAGES request for {@code pages} pages. */
    public static int frameSize(int pages) {
        return FrameHeader.SIZE + HEADER_SIZE + 4 * pages;
    }

    public PageIndexList wrap(ByteBuf body) {
        return wrap(body, body.readerIndex(), body.readableBytes());
    }

    /** {@link #wrap(ByteBuf)} for the body of {@code frame}, read in place. */
    public PageIndexList wrap(Frame frame) {
        return wrap(frame.buffer(), frame.bodyIndex(), frame.bodyLength());
    }

    private PageIndexList wrap(ByteBuf body, int index, int readable) {
        if (readable < HEADER_SIZE) {
            throw ProtocolException.badBody("READ_PAGES body is " + readable + " bytes (expected >= "
                    + HEADER_SIZE + ")");
        }
        long n = body.getUnsignedInt(index + 8);
        if (n == 0) {
            throw ProtocolException.badBody("READ_PAGES asks for no pages");
        }
        if (HEADER_SIZE + 4 * n != readable) {
            throw ProtocolException.badBody("READ_PAGES says " + n + " pages but its body is " + readable
                    + " bytes (expected " + (HEADER_SIZE + 4 * n) + ")");
        }
        this.buffer = body;
        this.base = index;
        this.count = (int) n;
        return this;
    }

    public long slabId() {
        return buffer.getLong(base);
    }

    public int count() {
        return count;
    }

    public long pageIndex(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("page " + i + " of " + count);
        }
        return buffer.getUnsignedInt(base + HEADER_SIZE + 4 * i);
    }
}
