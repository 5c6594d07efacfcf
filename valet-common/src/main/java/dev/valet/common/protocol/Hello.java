package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * HELLO: the first request on a connection; names the protocol version and the client identity that will own
 * the slabs this connection allocates. Body: {@code u8 version, u8 identityLength, identity (UTF-8, 1..255)}.
 */
public record Hello(int protocolVersion, String identity) implements MessageBody {
    public static final int MAX_IDENTITY_BYTES = 255;

    public Hello {
        int len = identity.getBytes(StandardCharsets.UTF_8).length;
        if (len == 0 || len > MAX_IDENTITY_BYTES) {
            throw new IllegalArgumentException("identity must be 1.." + MAX_IDENTITY_BYTES + " UTF-8 bytes, got "
                    + len);
        }
        if (protocolVersion < 0 || protocolVersion > 255) {
            throw new IllegalArgumentException("protocol version " + protocolVersion + " outside 0..255");
        }
    }

    @Override
    public int encodedSize() {
        return 2 + identity.getBytes(StandardCharsets.UTF_8).length;
    }

    @Override
    public void encode(ByteBuf out) {
        byte[] id = identity.getBytes(StandardCharsets.UTF_8);
        out.writeByte(protocolVersion);
        out.writeByte(id.length);
        out.writeBytes(id);
    }

    public static Hello decode(ByteBuf body) {
        if (body.readableBytes() < 3) {
            throw ProtocolException.badBody("HELLO body is " + body.readableBytes() + " bytes (expected >= 3)");
        }
        int version = body.readUnsignedByte();
        int len = body.readUnsignedByte();
        Frames.requireLength(body, len, "HELLO identity");
        if (len == 0) {
            throw ProtocolException.badBody("HELLO identity is empty");
        }
        String identity = WireStrings.decodeUtf8(body, len, "HELLO identity");
        return new Hello(version, identity);
    }
}
