package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** Page contents the tier's tests can tell apart and check, memory for a tier of N slots, and an answer recorder. */
final class TierPages {
    static final int PAGE = 4096;

    private TierPages() {
    }

    /** Zeroed memory for a tier of exactly {@code slots} slots (as the driver allocates it). */
    static ByteBuf memory(int slots) {
        int table = (slots * TierLayout.ENTRY_BYTES + PAGE - 1) / PAGE * PAGE;
        return Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(TierLayout.HEADER_BYTES + table + slots * PAGE));
    }

    /** A buffer of {@code count} pages, page {@code i} holding ({@code firstPage + i}, {@code value}). */
    static ByteBuf pages(long firstPage, int count, long value) {
        ByteBuf buf = Unpooled.buffer(count * PAGE, count * PAGE);
        for (int i = 0; i < count; i++) {
            fill(buf, i * PAGE, firstPage + i, value);
        }
        buf.writerIndex(count * PAGE);
        return buf;
    }

    static ByteBuf page(long page, long value) {
        return pages(page, 1, value);
    }

    static byte[] bytes(long page, long value) {
        byte[] data = new byte[PAGE];
        page(page, value).getBytes(0, data);
        return data;
    }

    /** Writes page {@code page}'s contents for {@code value}: its number, the value, then bytes derived from both. */
    static void fill(ByteBuf buf, int index, long page, long value) {
        buf.setLongLE(index, page);
        buf.setLongLE(index + 8, value);
        long x = page * 0x9E3779B97F4A7C15L ^ value * 0xC2B2AE3D27D4EB4FL | 1;
        for (int i = 16; i < PAGE; i += 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buf.setLongLE(index + i, x);
        }
    }

    /**
     * The value page {@code page} holds at {@code index}: -1 for all zeros (never written), else the value its
     * contents were made from.
     *
     * @throws AssertionError if the contents are neither (torn, or another page's)
     */
    static long valueAt(ByteBuf buf, int index, long page) {
        boolean zero = true;
        for (int i = 0; i < PAGE && zero; i += 8) {
            zero = buf.getLongLE(index + i) == 0;
        }
        if (zero) {
            return -1;
        }
        long found = buf.getLongLE(index);
        long value = buf.getLongLE(index + 8);
        ByteBuf expected = page(page, value);
        if (found != page || !expected.equals(buf.slice(index, PAGE))) {
            throw new AssertionError("page " + page + " holds damaged or foreign contents (says page " + found
                    + ", value " + value + ")");
        }
        return value;
    }

    static long valueOf(byte[] data, long page) {
        return data == null ? -1 : valueAt(Unpooled.wrappedBuffer(data), 0, page);
    }

    /** Records how a page store answered: how often, and with what. */
    static final class Answer implements PageIoDone {
        private final AtomicInteger told = new AtomicInteger();
        private volatile Throwable error;

        @Override
        public void pageIoDone(Throwable e) {
            error = e;
            told.incrementAndGet();
        }

        boolean ok() {
            return told.get() == 1 && error == null;
        }

        int told() {
            return told.get();
        }

        Throwable error() {
            return error;
        }
    }
}
