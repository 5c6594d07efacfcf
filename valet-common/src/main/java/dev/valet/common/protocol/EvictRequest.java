package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * EVICT, donor to client: the donor's host needs its memory back; the client should move slab {@code slabId}
 * elsewhere and confirm with FREE_SLAB within {@code deadlineMillis}. Body, 12 bytes: {@code u64 slabId,
 * u32 deadlineMillis (>= 1)}.
 */
public record EvictRequest(long slabId, long deadlineMillis) implements MessageBody {
    public static final int SIZE = 12;
    public static final long MAX_DEADLINE_MILLIS = 0xFFFF_FFFFL;

    public EvictRequest {
        if (deadlineMillis < 1 || deadlineMillis > MAX_DEADLINE_MILLIS) {
            throw new IllegalArgumentException("EVICT deadline " + deadlineMillis + " ms outside 1.."
                    + MAX_DEADLINE_MILLIS);
        }
    }

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeInt((int) deadlineMillis);
    }

    public static EvictRequest decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "EVICT");
        long slabId = body.readLong();
        long deadline = body.readUnsignedInt();
        if (deadline == 0) {
            throw ProtocolException.badBody("EVICT of slab " + slabId + " has deadline 0 ms (expected 1.."
                    + MAX_DEADLINE_MILLIS + ")");
        }
        return new EvictRequest(slabId, deadline);
    }
}
