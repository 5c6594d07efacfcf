package dev.valet.common.protocol;

import java.util.Arrays;

/**
 * The donor's half of the handshake, carried in HELLO_OK when the donor has a cluster secret: its fresh nonce,
 * and its proof that it holds the secret ({@link dev.valet.common.auth.ClusterSecret#donorProof}).
 */
public record AuthChallenge(byte[] donorNonce, byte[] donorProof) {
    public AuthChallenge {
        if (donorNonce.length != AuthProof.BYTES || donorProof.length != AuthProof.BYTES) {
            throw new IllegalArgumentException("donor nonce and proof must be " + AuthProof.BYTES + " bytes each");
        }
        donorNonce = donorNonce.clone();
        donorProof = donorProof.clone();
    }

    @Override
    public byte[] donorNonce() {
        return donorNonce.clone();
    }

    @Override
    public byte[] donorProof() {
        return donorProof.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthChallenge c && Arrays.equals(c.donorNonce, donorNonce)
                && Arrays.equals(c.donorProof, donorProof);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(donorNonce) + Arrays.hashCode(donorProof);
    }

    @Override
    public String toString() {
        return "AuthChallenge[nonce and proof, 32 bytes each]";
    }
}
