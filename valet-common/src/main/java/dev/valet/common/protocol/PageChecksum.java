package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC32C of one 4096-byte page: the end-to-end checksum every page carries. */
public final class PageChecksum {
    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);
    /** CRC32C of a page of zeros: what a never-written page carries (after CRC: initialisation order). */
    public static final int ZERO_PAGE_CRC = crc32c(new byte[FrameHeader.PAGE_SIZE], 0);

    private PageChecksum() {
    }

    public static int crc32c(ByteBuf buf, int index) {
        CRC32C crc = CRC.get();
        crc.reset();
        crc.update(buf.nioBuffer(index, FrameHeader.PAGE_SIZE));
        return (int) crc.getValue();
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
