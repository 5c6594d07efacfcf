package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

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

    public static PagesAck decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "WRITE_PAGES_OK");
        return new PagesAck(body.readLong(), body.readInt());
    }
}
