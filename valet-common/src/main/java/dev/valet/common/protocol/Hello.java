package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * HELLO: the first request on a connection; names the protocol version, the client identity that will own the
 * slabs this connection allocates, and the client's fresh nonce for the authentication handshake. Body:
 * {@code u8 version, u8 identityLength, identity (UTF-8, 1..255), 32 bytes clientNonce}. A donor without a
 * cluster secret ignores the nonce.
 */
public record Hello(int protocolVersion, String identity, byte[] clientNonce) implements MessageBody {
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
        if (clientNonce.length != AuthProof.BYTES) {
            throw new IllegalArgumentException("client nonce must be " + AuthProof.BYTES + " bytes, got "
                    + clientNonce.length);
        }
        clientNonce = clientNonce.clone();
    }

    /** A HELLO with a fresh random nonce (for a client that will not authenticate, or a test). */
    public Hello(int protocolVersion, String identity) {
        this(protocolVersion, identity, dev.valet.common.auth.ClusterSecret.freshNonce());
    }

    @Override
    public byte[] clientNonce() {
        return clientNonce.clone();
    }

    @Override
    public int encodedSize() {
        return 2 + identity.getBytes(StandardCharsets.UTF_8).length + AuthProof.BYTES;
    }

    @Override
    public void encode(ByteBuf out) {
        byte[] id = identity.getBytes(StandardCharsets.UTF_8);
        out.writeByte(protocolVersion);
        out.writeByte(id.length);
        out.writeBytes(id);
        out.writeBytes(clientNonce);
    }

    public static Hello decode(ByteBuf body) {
        if (body.readableBytes() < 3 + AuthProof.BYTES) {
            throw ProtocolException.badBody("HELLO body is " + body.readableBytes() + " bytes (expected >= "
                    + (3 + AuthProof.BYTES) + ")");
        }
        int version = body.readUnsignedByte();
        int len = body.readUnsignedByte();
        Frames.requireLength(body, len + AuthProof.BYTES, "HELLO identity and nonce");
        if (len == 0) {
            throw ProtocolException.badBody("HELLO identity is empty");
        }
        String identity = WireStrings.decodeUtf8(body, len, "HELLO identity");
        byte[] nonce = new byte[AuthProof.BYTES];
        body.readBytes(nonce);
        return new Hello(version, identity, nonce);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hello h && h.protocolVersion == protocolVersion && h.identity.equals(identity)
                && Arrays.equals(h.clientNonce, clientNonce);
    }

    @Override
    public int hashCode() {
        return 31 * identity.hashCode() + Arrays.hashCode(clientNonce) + protocolVersion;
    }

    @Override
    public String toString() {
        return "Hello[v" + protocolVersion + ", '" + identity + "']";
    }
}
