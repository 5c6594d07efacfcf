package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/** A body that is just a slab id: FREE_SLAB, ALLOC_SLAB_OK and FREE_SLAB_OK. Body: {@code u64 slabId}. */
public record SlabRef(long slabId) implements MessageBody {
    public static final int SIZE = 8;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
    }

    public static SlabRef decode(ByteBuf body, String what) {
        Frames.requireLength(body, SIZE, what);
        return new SlabRef(body.readLong());
    }
}
