package dev.valet.common.crypto;

import dev.valet.common.auth.ClusterSecret;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 key a client encrypts its pages with (docs/security.md, "Page encryption"). From a key file: HKDF-SHA256
 * of the file's bytes; without one, HKDF-SHA256 of the cluster secret. Either way the HKDF info is
 * {@code "valet page key" ‖ identity}, so two clients that share a key file or a secret still get different keys
 * (their nonces, (page, version), overlap).
 */
public final class PageKey {
    /** Fewest bytes a key file may have: a 256-bit key needs 256 bits of input. */
    public static final int MIN_KEY_FILE_BYTES = 32;
    /** Most bytes a key file may have (anything longer is not a key file). */
    public static final int MAX_KEY_FILE_BYTES = 4096;
    public static final String INFO = "valet page key";
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final SecretKeySpec key;
    private final String source;

    private PageKey(byte[] key, String source) {
        this.key = new SecretKeySpec(key, "AES");
        Arrays.fill(key, (byte) 0);
        this.source = source;
    }

    /**
     * The key of {@code identity} from a key file, refusing one that is missing, not a regular file, readable or
     * writable by group or others, or shorter than {@value #MIN_KEY_FILE_BYTES} bytes.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static PageKey fromFile(Path file, String identity) {
        byte[] bytes = readChecked(file);
        try {
            return new PageKey(Hkdf.sha256(bytes, new byte[0], info(identity), 32), "key file " + file);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** The key of {@code identity} derived from the cluster secret (weaker: every donor holds the secret). */
    public static PageKey fromClusterSecret(ClusterSecret secret, String identity) {
        return new PageKey(secret.deriveKey(info(identity), 32), "cluster secret " + secret.file());
    }

    /** Why {@code file} is no usable key file, or {@code null} when it is one. */
    public static String problemWith(Path file) {
        try {
            Arrays.fill(readChecked(file), (byte) 0);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    static byte[] info(String identity) {
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        info.writeBytes(INFO.getBytes(StandardCharsets.US_ASCII));
        info.writeBytes(identity.getBytes(StandardCharsets.UTF_8));
        return info.toByteArray();
    }

    private static byte[] readChecked(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(Files.exists(file) ? "key file " + file + " is not a regular file"
                        : "no such key file " + file);
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            Set<PosixFilePermission> loose = EnumSet.copyOf(OTHERS);
            loose.retainAll(perms);
            if (!loose.isEmpty()) {
                throw new IllegalArgumentException("key file " + file + " is " + PosixFilePermissions.toString(perms)
                        + ": group or others may read or write it; run chmod 600 " + file);
            }
            long size = Files.size(file);
            if (size < MIN_KEY_FILE_BYTES || size > MAX_KEY_FILE_BYTES) {
                throw new IllegalArgumentException("key file " + file + " has " + size + " bytes; a page key file"
                        + " must have " + MIN_KEY_FILE_BYTES + " to " + MAX_KEY_FILE_BYTES + " (e.g. head -c 32"
                        + " /dev/urandom > " + file + " && chmod 600 " + file + ")");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such key file " + file);
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalArgumentException("cannot read key file " + file + ": " + e.getMessage());
        }
    }

    SecretKeySpec spec() {
        return key;
    }

    /** Where the key came from, for log lines (never the key). */
    public String source() {
        return source;
    }

    @Override
    public String toString() {
        return "PageKey[" + source + "]";
    }
}
