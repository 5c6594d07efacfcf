package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * AUTH: the client's proof that it holds the cluster secret, an HMAC-SHA256 over the handshake transcript
 * ({@link dev.valet.common.auth.ClusterSecret#clientProof}). Body: {@code 32 bytes}. Also the size of every nonce
 * of the handshake.
 */
public record AuthProof(byte[] proof) implements MessageBody {
    /** Bytes of an HMAC-SHA256, and of each handshake nonce. */
    public static final int BYTES = 32;

    public AuthProof {
        if (proof.length != BYTES) {
            throw new IllegalArgumentException("proof must be " + BYTES + " bytes, got " + proof.length);
        }
        proof = proof.clone();
    }

    @Override
    public byte[] proof() {
        return proof.clone();
    }

    @Override
    public int encodedSize() {
        return BYTES;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeBytes(proof);
    }

    public static AuthProof decode(ByteBuf body) {
        Frames.requireLength(body, BYTES, "AUTH");
        byte[] proof = new byte[BYTES];
        body.readBytes(proof);
        return new AuthProof(proof);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthProof a && Arrays.equals(a.proof, proof);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(proof);
    }

    @Override
    public String toString() {
        return "AuthProof[32 bytes]";
    }
}
