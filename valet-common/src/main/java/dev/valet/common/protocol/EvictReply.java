package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * EVICT_OK, client to donor: the outcome of an EVICT. Body, 10 bytes: {@code u64 slabId, u16 reason}; reason 0
 * means accepted (the slab has been moved and the client's FREE_SLAB of it was sent first), otherwise it is the
 * {@link ErrorCode} saying why the client declined ({@link ErrorCode#EVICT_NOWHERE}, {@link ErrorCode#EVICT_FAILED}):
 * the donor then keeps the slab.
 *
 * @param declined null when accepted
 */
public record EvictReply(long slabId, ErrorCode declined) implements MessageBody {
    public static final int SIZE = 10;

    public static EvictReply accepted(long slabId) {
        return new EvictReply(slabId, null);
    }

    public boolean isAccepted() {
        return declined == null;
    }

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeShort(declined == null ? 0 : declined.code());
    }

    public static EvictReply decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "EVICT_OK");
        long slabId = body.readLong();
        int raw = body.readUnsignedShort();
        if (raw == 0) {
            return accepted(slabId);
        }
        ErrorCode code = ErrorCode.fromCode(raw);
        if (code == null) {
            throw ProtocolException.badBody("EVICT_OK of slab " + slabId + " with unknown reason " + raw);
        }
        return new EvictReply(slabId, code);
    }
}
