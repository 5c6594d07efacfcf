package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * HELLO_OK: the donor accepts. Body: {@code u64 donorInstanceId, u32 pageSize, u32 maxFrameBytes,
 * u64 maxSlabBytes}. The instance id is new each time a donor starts, so a client can tell a restarted donor
 * (whose memory is empty) from one that merely reconnected.
 */
public record HelloOk(long donorInstanceId, int pageSize, int maxFrameBytes, long maxSlabBytes)
        implements MessageBody {
    public static final int SIZE = 24;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(donorInstanceId);
        out.writeInt(pageSize);
        out.writeInt(maxFrameBytes);
        out.writeLong(maxSlabBytes);
    }

    public static HelloOk decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "HELLO_OK");
        return new HelloOk(body.readLong(), body.readInt(), body.readInt(), body.readLong());
    }
}
