package dev.valet.common.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF-SHA256 (RFC 5869), extract then expand, for keys of up to 32 bytes. */
public final class Hkdf {
    private static final String HMAC = "HmacSHA256";
    private static final int HASH_BYTES = 32;

    private Hkdf() {
    }

    /**
     * {@code length} bytes (1 to 32) of key material from input keying material {@code ikm}, with {@code salt} (empty:
     * 32 zero bytes, as the RFC says) and context {@code info}.
     */
    public static byte[] sha256(byte[] ikm, byte[] salt, byte[] info, int length) {
        if (length < 1 || length > HASH_BYTES) {
            throw new IllegalArgumentException("HKDF output of " + length + " bytes (1 to 32 supported)");
        }
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(salt.length == 0 ? new byte[HASH_BYTES] : salt, HMAC));
            byte[] prk = mac.doFinal(ikm);
            mac.init(new SecretKeySpec(prk, HMAC));
            mac.update(info);
            mac.update((byte) 1);
            byte[] okm = mac.doFinal();
            Arrays.fill(prk, (byte) 0);
            return length == HASH_BYTES ? okm : Arrays.copyOf(okm, length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable in this JDK", e);
        }
    }
}
