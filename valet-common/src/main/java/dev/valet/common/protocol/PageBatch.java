package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Flyweight over a batch of pages: the body of WRITE_PAGES and of READ_PAGES_OK. Reusable: {@link #wrap} checks
 * the layout once, then the accessors read in place without copying or allocating.
 *
 * <pre>
 *  0      8  slabId
 *  8      4  count            1 .. (frame cap)
 * 12      -  count entries of {@value #ENTRY_SIZE} bytes:
 *              0   4  pageIndex   page number inside the slab
 *              4   4  crc32c      of the 4096 data bytes
 *              8   8  version     0 = never written (data then all zeros)
 *             16  16  tag         the page's AES-GCM tag when the client encrypts (docs/security.md), else zeros;
 *                                 opaque to the donor, which stores and returns it with the page
 *             32 4096 data
 * </pre>
 */
public final class PageBatch {
    public static final int HEADER_SIZE = 12;
    public static final int ENTRY_HEADER_SIZE = 32;
    public static final int TAG_SIZE = 16;
    public static final int ENTRY_SIZE = ENTRY_HEADER_SIZE + FrameHeader.PAGE_SIZE;

    private static final int PAGE_INDEX_OFFSET = 0;
    private static final int CRC_OFFSET = 4;
    private static final int VERSION_OFFSET = 8;
    private static final int TAG_OFFSET = 16;

    private ByteBuf buffer;
    private int base;
    /** The first entry this flyweight shows: 0, or where a {@link #range} of a larger batch starts. */
    private int first;
    private int count;

    /** The most pages that fit in one frame of {@code maxFrameBytes}. */
    public static int maxPages(int maxFrameBytes) {
        return Math.max(0, (maxFrameBytes - FrameHeader.SIZE - HEADER_SIZE) / ENTRY_SIZE);
    }

    /** The body size of a batch of {@code count} pages. */
    public static long bodySize(long count) {
        return HEADER_SIZE + count * ENTRY_SIZE;
    }

    /**
     * Points this flyweight at {@code body} (from its reader index to its writer index).
     *
     * @throws ProtocolException if the body is not exactly a header and {@code count} whole entries
     */
    public PageBatch wrap(ByteBuf body, String what) {
        return wrap(body, body.readerIndex(), body.readableBytes(), what);
    }

    /** {@link #wrap(ByteBuf, String)} for the body of {@code frame}, read in place. */
    public PageBatch wrap(Frame frame, String what) {
        return wrap(frame.buffer(), frame.bodyIndex(), frame.bodyLength(), what);
    }

    private PageBatch wrap(ByteBuf body, int index, int readable, String what) {
        if (readable < HEADER_SIZE) {
            throw ProtocolException.badBody(what + " body is " + readable + " bytes (expected >= " + HEADER_SIZE
                    + ")");
        }
        long n = body.getUnsignedInt(index + 8);
        if (n == 0) {
            throw ProtocolException.badBody(what + " carries no pages");
        }
        if (bodySize(n) != readable) {
            throw ProtocolException.badBody(what + " says " + n + " pages but its body is " + readable
                    + " bytes (expected " + bodySize(n) + ")");
        }
        this.buffer = body;
        this.base = index;
        this.first = 0;
        this.count = (int) n;
        return this;
    }

    /**
     * Points this flyweight at entries {@code from .. from + n} of {@code whole} (already checked), shown as pages
     * {@code 0 .. n}: the share of one request in a reply that answers several at once.
     */
    public PageBatch range(PageBatch whole, int from, int n) {
        if (from < 0 || n < 1 || from + n > whole.count) {
            throw new IndexOutOfBoundsException("pages " + from + "+" + n + " of " + whole.count);
        }
        this.buffer = whole.buffer;
        this.base = whole.base;
        this.first = whole.first + from;
        this.count = n;
        return this;
    }

    /** Lets go of the body (a pooled flyweight must not keep a receive buffer reachable). */
    public void clear() {
        this.buffer = null;
        this.count = 0;
    }

    /**
     * A copy of the body this flyweight shows (a header and its entries), for a caller that keeps the pages after
     * the receive buffer is reused.
     */
    public ByteBuf copyBody() {
        if (first == 0 && buffer.getUnsignedInt(base + 8) == count) {
            return buffer.copy(base, (int) bodySize(count));
        }
        ByteBuf copy = buffer.alloc().buffer((int) bodySize(count));
        copy.writeLong(slabId());
        copy.writeInt(count);
        copy.writeBytes(buffer, entry(0), count * ENTRY_SIZE);
        return copy;
    }

    public ByteBuf buffer() {
        return buffer;
    }

    public long slabId() {
        return buffer.getLong(base);
    }

    public int count() {
        return count;
    }

    /** Page number inside the slab, unsigned 32-bit read into a long so hostile values stay visible. */
    public long pageIndex(int i) {
        return buffer.getUnsignedInt(entry(i) + PAGE_INDEX_OFFSET);
    }

    public int crc(int i) {
        return buffer.getInt(entry(i) + CRC_OFFSET);
    }

    public long version(int i) {
        return buffer.getLong(entry(i) + VERSION_OFFSET);
    }

    /** Absolute index in {@link #buffer()} of page {@code i}'s {@value #TAG_SIZE}-byte tag. */
    public int tagIndex(int i) {
        return entry(i) + TAG_OFFSET;
    }

    /** Absolute index in {@link #buffer()} of page {@code i}'s 4096 data bytes. */
    public int dataIndex(int i) {
        return entry(i) + ENTRY_HEADER_SIZE;
    }

    /** Whether page {@code i}'s data matches its CRC32C. */
    public boolean checksumValid(int i) {
        return PageChecksum.crc32c(buffer, dataIndex(i)) == crc(i);
    }

    private int entry(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("page " + i + " of " + count);
        }
        return base + HEADER_SIZE + (first + i) * ENTRY_SIZE;
    }
}
