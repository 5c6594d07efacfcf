package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * HELLO_OK: the donor accepts. Body (89 bytes): {@code u64 donorInstanceId, u32 pageSize, u32 maxFrameBytes,
 * u64 maxSlabBytes, u8 auth (0 = none, 1 = HMAC handshake follows), 32 bytes donorNonce, 32 bytes donorProof}
 * (nonce and proof all zeros when {@code auth} is 0). The instance id is new each time a donor starts, so a
 * client can tell a restarted donor (whose memory is empty) from one that merely reconnected.
 *
 * @param auth the donor's half of the handshake, or {@code null} when the donor has no cluster secret
 */
public record HelloOk(long donorInstanceId, int pageSize, int maxFrameBytes, long maxSlabBytes, AuthChallenge auth)
        implements MessageBody {
    public static final int SIZE = 24 + 1 + 2 * AuthProof.BYTES;

    /** A HELLO_OK of a donor without a cluster secret. */
    public HelloOk(long donorInstanceId, int pageSize, int maxFrameBytes, long maxSlabBytes) {
        this(donorInstanceId, pageSize, maxFrameBytes, maxSlabBytes, null);
    }

    /** This HELLO_OK carrying the donor's half of the handshake of one connection. */
    public HelloOk withAuth(AuthChallenge challenge) {
        return new HelloOk(donorInstanceId, pageSize, maxFrameBytes, maxSlabBytes, challenge);
    }

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
        if (auth == null) {
            out.writeByte(0);
            out.writeZero(2 * AuthProof.BYTES);
        } else {
            out.writeByte(1);
            out.writeBytes(auth.donorNonce());
            out.writeBytes(auth.donorProof());
        }
    }

    public static HelloOk decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "HELLO_OK");
        long instance = body.readLong();
        int pageSize = body.readInt();
        int maxFrame = body.readInt();
        long maxSlab = body.readLong();
        int mode = body.readUnsignedByte();
        byte[] nonce = new byte[AuthProof.BYTES];
        byte[] proof = new byte[AuthProof.BYTES];
        body.readBytes(nonce).readBytes(proof);
        return switch (mode) {
            case 0 -> new HelloOk(instance, pageSize, maxFrame, maxSlab, null);
            case 1 -> new HelloOk(instance, pageSize, maxFrame, maxSlab, new AuthChallenge(nonce, proof));
            default -> throw ProtocolException.badBody("HELLO_OK auth mode " + mode + " (expected 0 or 1)");
        };
    }
}
