package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC32C of one 4096-byte page: the end-to-end checksum every page carries. */
public final class PageChecksum {
    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);
    private static final ThreadLocal<View> VIEW = ThreadLocal.withInitial(View::new);
    /** CRC32C of a page of zeros: what a never-written page carries (after CRC: initialisation order). */
    public static final int ZERO_PAGE_CRC = crc32c(new byte[FrameHeader.PAGE_SIZE], 0);

    private PageChecksum() {
    }

    /**
     * CRC32C of the page at absolute {@code index} of {@code buf}; allocates nothing when the buffer has an address.
     */
    public static int crc32c(ByteBuf buf, int index) {
        CRC32C crc = CRC.get();
        crc.reset();
        crc.update(VIEW.get().of(buf, index));
        return (int) crc.getValue();
    }

    /**
     * This thread's NIO views of the memory it checksums, one per buffer it met lately (the data area, the frames of
     * many pages, a benchmark's window of buffers): a view is made per buffer, not per page. A small table keyed by
     * address and size, never by the buffer object, which netty recycles for other memory.
     */
    private static final class View {
        private static final int SLOTS = 64;
        private final ByteBuffer[] views = new ByteBuffer[SLOTS];
        private final long[] addresses = new long[SLOTS];
        private final int[] capacities = new int[SLOTS];

        ByteBuffer of(ByteBuf buf, int index) {
            if (!buf.hasMemoryAddress()) {
                return buf.nioBuffer(index, FrameHeader.PAGE_SIZE);
            }
            if (buf.refCnt() == 0) {
                throw new IllegalReferenceCountException(0);
            }
            long address = buf.memoryAddress();
            int capacity = buf.capacity();
            int slot = (int) ((address * 0x9E3779B97F4A7C15L) >>> 58); // 6 bits: SLOTS
            ByteBuffer view = views[slot];
            if (view == null || addresses[slot] != address || capacities[slot] != capacity) {
                view = buf.nioBuffer(0, capacity);
                views[slot] = view;
                addresses[slot] = address;
                capacities[slot] = capacity;
            }
            view.clear();
            view.position(index);
            view.limit(index + FrameHeader.PAGE_SIZE);
            return view;
        }
    }

    public static int crc32c(byte[] page, int offset) {
        CRC32C crc = CRC.get();
        crc.reset();
        crc.update(page, offset, FrameHeader.PAGE_SIZE);
        return (int) crc.getValue();
    }

    /** CRC32C of {@code page} from its position to its limit; the position is left as it was. */
    public static int crc32c(ByteBuffer page) {
        CRC32C crc = CRC.get();
        crc.reset();
        int position = page.position();
        crc.update(page);
        page.position(position);
        return (int) crc.getValue();
    }
}
