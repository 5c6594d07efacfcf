package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Writes frame headers. A frame is begun, its body written in place, then finished (which patches the length). */
public final class Frames {
    private Frames() {
    }

    /**
     * Writes a header with a placeholder length at the writer index.
     *
     * @return the frame's start index, to pass to {@link #finish}
     */
    public static int begin(ByteBuf out, Opcode opcode, long requestId) {
        int start = out.writerIndex();
        out.writeInt(0);
        out.writeShort(FrameHeader.MAGIC);
        out.writeByte(FrameHeader.VERSION);
        out.writeByte(opcode.code());
        out.writeLong(requestId);
        return start;
    }

    /** Patches the length of the frame begun at {@code start}, which ends at the writer index. */
    public static void finish(ByteBuf out, int start) {
        out.setInt(start + FrameHeader.LENGTH_OFFSET, out.writerIndex() - start - FrameHeader.LENGTH_FIELD_SIZE);
    }

    /** A whole frame with a fixed-size body, in a fresh buffer from {@code alloc}. */
    public static ByteBuf encode(ByteBufAllocator alloc, Opcode opcode, long requestId, MessageBody body) {
        ByteBuf out = alloc.buffer(FrameHeader.SIZE + body.encodedSize());
        int start = begin(out, opcode, requestId);
        body.encode(out);
        finish(out, start);
        return out;
    }

    /** A whole frame with an empty body, in a fresh buffer from {@code alloc}. */
    public static ByteBuf encodeEmpty(ByteBufAllocator alloc, Opcode opcode, long requestId) {
        ByteBuf out = alloc.buffer(FrameHeader.SIZE);
        finish(out, begin(out, opcode, requestId));
        return out;
    }

    /** Throws a non-fatal {@link ProtocolException} unless the body is empty. */
    public static void requireEmpty(ByteBuf body, String what) {
        requireLength(body, 0, what);
    }

    /** Throws a non-fatal {@link ProtocolException} unless the body has exactly {@code expected} bytes left. */
    static void requireLength(ByteBuf body, int expected, String what) {
        requireLength(body.readableBytes(), expected, what);
    }

    static void requireLength(int bodyLength, int expected, String what) {
        if (bodyLength != expected) {
            throw ProtocolException.badBody(what + " body is " + bodyLength + " bytes (expected " + expected + ")");
        }
    }
}
