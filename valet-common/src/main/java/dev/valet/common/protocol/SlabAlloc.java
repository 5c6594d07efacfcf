package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * ALLOC_SLAB: lend a slab of {@code slabBytes} (a multiple of the page size) under the client's own
 * {@code slabId}. Slab ids live in the client identity's namespace. Body: {@code u64 slabId, u64 slabBytes}.
 */
public record SlabAlloc(long slabId, long slabBytes) implements MessageBody {
    public static final int SIZE = 16;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeLong(slabBytes);
    }

    public static SlabAlloc decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "ALLOC_SLAB");
        return new SlabAlloc(body.readLong(), body.readLong());
    }
}
