package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.internal.PlatformDependent;

/** Copies one 4096-byte page between buffers: memory to memory when both have an address, so nothing is allocated. */
public final class PageBytes {
    private PageBytes() {
    }

    /**
     * Copies the page at {@code srcIndex} of {@code src} to {@code dstIndex} of {@code dst} (absolute indexes; the
     * reader and writer indexes are untouched). Netty's own {@code setBytes} between two direct buffers may make an
     * NIO view per call to copy through.
     */
    public static void copy(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex) {
        copy(src, srcIndex, dst, dstIndex, FrameHeader.PAGE_SIZE);
    }

    /** {@link #copy(ByteBuf, int, ByteBuf, int)} for {@code length} bytes (a page's 16-byte tag, say). */
    public static void copy(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex, int length) {
        if (src.hasMemoryAddress() && dst.hasMemoryAddress()) {
            check(src, srcIndex, length);
            check(dst, dstIndex, length);
            PlatformDependent.copyMemory(src.memoryAddress() + srcIndex, dst.memoryAddress() + dstIndex, length);
        } else {
            dst.setBytes(dstIndex, src, srcIndex, length);
        }
    }

    private static void check(ByteBuf buf, int index, int length) {
        if (index < 0 || index > buf.capacity() - length) {
            throw new IndexOutOfBoundsException(length + " bytes at " + index + " of a " + buf.capacity()
                    + "-byte buffer");
        }
        if (buf.refCnt() == 0) {
            throw new IllegalReferenceCountException(0); // a released buffer, as its own accessors would say
        }
    }
}
