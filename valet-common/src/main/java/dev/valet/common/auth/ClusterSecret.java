package dev.valet.common.auth;

import dev.valet.common.crypto.Hkdf;
import dev.valet.common.protocol.AuthProof;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * The shared cluster secret every client and donor of one cluster holds, and the handshake proofs made with it.
 * The secret is the raw bytes of a file (at least {@value #MIN_BYTES}), readable and writable by its owner only.
 * It never crosses the wire: each side proves it holds it with an HMAC-SHA256 over a transcript of both fresh
 * nonces and the client identity, under a label naming the side, so no proof can be replayed, reflected or
 * passed off as the other side's.
 *
 * <p>Transcript: {@code u8 labelLength, label, u8 identityLength, identity (UTF-8), clientNonce (32),
 * donorNonce (32)}; the label is {@value #DONOR_LABEL} for the donor's proof and {@value #CLIENT_LABEL} for the
 * client's. Every variable-length field is length-prefixed and the nonces have a fixed size, so no two
 * different transcripts are the same bytes.
 */
public final class ClusterSecret {
    public static final int MIN_BYTES = 32;
    /** A secret file is not read if it is bigger than this: it is a key, not a document. */
    public static final int MAX_BYTES = 4096;
    public static final String DONOR_LABEL = "valet-donor";
    public static final String CLIENT_LABEL = "valet-client";
    private static final String HMAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final SecretKeySpec key;
    private final Path file;

    private ClusterSecret(byte[] secret, Path file) {
        this.key = new SecretKeySpec(secret, HMAC);
        this.file = file;
        // Load the JDK's HMAC and warm the random source now, at startup, rather than inside the first
        // handshake, whose time counts against the peer's connect timeout.
        mac(DONOR_LABEL, "warm-up", freshNonce(), freshNonce());
    }

    /**
     * Reads a secret file, refusing one that is missing, not a regular file, readable or writable by group or
     * others, shorter than {@value #MIN_BYTES} or longer than {@value #MAX_BYTES} bytes.
     *
     * @throws IllegalArgumentException saying what is wrong with the file and how to fix it
     */
    public static ClusterSecret load(Path file) {
        return new ClusterSecret(readChecked(file), file);
    }

    /** Why {@code file} is no usable secret file, or {@code null} when it is one. */
    public static String problemWith(Path file) {
        try {
            readChecked(file);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static byte[] readChecked(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(Files.exists(file) ? file + " is not a regular file"
                        : "no such file " + file);
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            Set<PosixFilePermission> loose = EnumSet.copyOf(OTHERS);
            loose.retainAll(perms);
            if (!loose.isEmpty()) {
                throw new IllegalArgumentException(file + " is " + PosixFilePermissions.toString(perms)
                        + ": group or others may read or write it; run chmod 600 " + file);
            }
            long size = Files.size(file);
            if (size < MIN_BYTES || size > MAX_BYTES) {
                throw new IllegalArgumentException(file + " has " + size + " bytes; a secret must have "
                        + MIN_BYTES + " to " + MAX_BYTES + " (e.g. head -c 32 /dev/urandom > " + file + ")");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file " + file);
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Writes {@value #MIN_BYTES} fresh random bytes to a new file readable by its owner only: a secret for the
     * donors a command starts for itself.
     */
    public static ClusterSecret generate(Path file) throws IOException {
        byte[] secret = new byte[MIN_BYTES];
        RANDOM.nextBytes(secret);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(file, secret, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        return new ClusterSecret(secret, file);
    }

    /** The file the secret came from. */
    public Path file() {
        return file;
    }

    /** A fresh random nonce, for one side of one handshake. */
    public static byte[] freshNonce() {
        byte[] nonce = new byte[AuthProof.BYTES];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /** What the donor sends in HELLO_OK to prove it holds the secret. */
    public byte[] donorProof(String identity, byte[] clientNonce, byte[] donorNonce) {
        return mac(DONOR_LABEL, identity, clientNonce, donorNonce);
    }

    /** What the client sends in AUTH to prove it holds the secret. */
    public byte[] clientProof(String identity, byte[] clientNonce, byte[] donorNonce) {
        return mac(CLIENT_LABEL, identity, clientNonce, donorNonce);
    }

    /**
     * {@code length} bytes (at most 32) of HKDF-SHA256 of the secret with context {@code info}: a key for another
     * purpose than the handshake (the page key, {@link dev.valet.common.crypto.PageKey}), without handing out the
     * secret itself.
     */
    public byte[] deriveKey(byte[] info, int length) {
        byte[] secret = key.getEncoded();
        try {
            return Hkdf.sha256(secret, new byte[0], info, length);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** Compares a received proof with the expected one in time independent of where they differ. */
    public static boolean matches(byte[] expected, byte[] received) {
        return MessageDigest.isEqual(expected, received);
    }

    private byte[] mac(String label, String identity, byte[] clientNonce, byte[] donorNonce) {
        if (clientNonce.length != AuthProof.BYTES || donorNonce.length != AuthProof.BYTES) {
            throw new IllegalArgumentException("nonces must be " + AuthProof.BYTES + " bytes");
        }
        byte[] labelBytes = label.getBytes(StandardCharsets.US_ASCII);
        byte[] id = identity.getBytes(StandardCharsets.UTF_8);
        if (id.length > 255) {
            throw new IllegalArgumentException("identity longer than 255 bytes");
        }
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            mac.update((byte) labelBytes.length);
            mac.update(labelBytes);
            mac.update((byte) id.length);
            mac.update(id);
            mac.update(clientNonce);
            mac.update(donorNonce);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable in this JDK", e);
        }
    }

    @Override
    public String toString() {
        return "ClusterSecret[" + file + "]";
    }
}
