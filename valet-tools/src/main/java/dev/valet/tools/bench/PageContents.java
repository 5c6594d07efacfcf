package dev.valet.tools.bench;

import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PagePattern;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * What the benchmark's pages hold: one fixed random body (from {@link PagePattern}) with the page number and the
 * generation of its last write stamped in its first 16 and last 8 bytes. A reader checks the stamps against the
 * generation it knows each page last got, and the body: a page from elsewhere, an older write or torn data all
 * fail. Filling is a 4 KiB copy; checking a 4 KiB compare.
 */
public final class PageContents {
    private static final int PAGE = FrameHeader.PAGE_SIZE;

    private final byte[] body = new byte[PAGE];
    private final ByteBuf bodyBuf;
    private final int[] generation;
    private final long key;
    private int lastGeneration;

    /** Contents of {@code pages} pages under {@code seed}. */
    public PageContents(long pages, long seed) {
        PagePattern.fill(body, seed, 0, 0, 0);
        this.bodyBuf = Unpooled.wrappedBuffer(body);
        this.generation = new int[(int) pages];
        this.key = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
    }

    /** A new generation for the writes that follow. */
    public int nextGeneration() {
        return ++lastGeneration;
    }

    /** Called on the submitting thread, in submission order; writes of one case share a generation. */
    public void fill(long page, ByteBuf buf, int index, int gen) {
        generation[(int) page] = gen;
        buf.setBytes(index, body);
        buf.setLong(index, page ^ key);
        buf.setLong(index + 8, gen);
        buf.setLong(index + PAGE - 8, (page * 31 + gen) ^ key);
    }

    /** Whether the page at {@code index} of {@code buf} is page {@code page} as last filled. */
    public boolean check(long page, ByteBuf buf, int index) {
        int gen = generation[(int) page];
        return buf.getLong(index) == (page ^ key) && buf.getLong(index + 8) == gen
                && buf.getLong(index + PAGE - 8) == ((page * 31 + gen) ^ key)
                && sameBody(buf, index);
    }

    /** Bytes 16 .. 4088 against the body (not ByteBufUtil.equals: it looks at writerIndex, not capacity). */
    private boolean sameBody(ByteBuf buf, int index) {
        for (int i = 16; i < PAGE - 8; i += 8) {
            if (buf.getLong(index + i) != bodyBuf.getLong(i)) {
                return false;
            }
        }
        return true;
    }
}
