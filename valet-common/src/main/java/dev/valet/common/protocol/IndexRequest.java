package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * READ_INDEX: the version and CRC32C of pages {@code firstPage .. firstPage + count} of one slab, without their
 * data. Body: {@code u64 slabId, u32 firstPage, u32 count}.
 */
public record IndexRequest(long slabId, long firstPage, long count) implements MessageBody {
    public static final int SIZE = 16;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeInt((int) firstPage);
        out.writeInt((int) count);
    }

    public static IndexRequest decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "READ_INDEX");
        return new IndexRequest(body.readLong(), body.readUnsignedInt(), body.readUnsignedInt());
    }
}
