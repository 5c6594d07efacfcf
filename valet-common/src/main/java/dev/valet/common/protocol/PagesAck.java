package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** WRITE_PAGES_OK: every page of the batch is stored. Body: {@code u64 slabId, u32 count}. */
public record PagesAck(long slabId, int count) implements MessageBody {
    public static final int SIZE = 12;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeInt(count);
    }

    /** A whole WRITE_PAGES_OK frame in a buffer from {@code alloc}, without a record (the donor's request path). */
    public static ByteBuf encode(ByteBufAllocator alloc, long requestId, long slabId, int count) {
        ByteBuf out = alloc.buffer(FrameHeader.SIZE + SIZE);
        int start = Frames.begin(out, Opcode.WRITE_PAGES_OK, requestId);
        out.writeLong(slabId);
        out.writeInt(count);
        Frames.finish(out, start);
        return out;
    }

    /**
     * Checks in place, without decoding into a record, that {@code frame}'s body acknowledges {@code count} pages of
     * slab {@code slabId}.
     *
     * @throws ProtocolException if it does not
     */
    public static void check(Frame frame, long slabId, int count) {
        Frames.requireLength(frame.bodyLength(), SIZE, "WRITE_PAGES_OK");
        long ackSlab = frame.buffer().getLong(frame.bodyIndex());
        int ackCount = frame.buffer().getInt(frame.bodyIndex() + 8);
        if (ackSlab != slabId || ackCount != count) {
            throw ProtocolException.badBody("WRITE_PAGES_OK for slab " + ackSlab + " x" + ackCount
                    + ", expected slab " + slabId + " x" + count);
        }
    }

    public static PagesAck decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "WRITE_PAGES_OK");
        return new PagesAck(body.readLong(), body.readInt());
    }
}
