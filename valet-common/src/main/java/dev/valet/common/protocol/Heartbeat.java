package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/** HEARTBEAT and HEARTBEAT_OK: the sender's clock, echoed back, for liveness and round-trip time. */
public record Heartbeat(long senderNanos) implements MessageBody {
    public static final int SIZE = 8;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(senderNanos);
    }

    public static Heartbeat decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "HEARTBEAT");
        return new Heartbeat(body.readLong());
    }
}
