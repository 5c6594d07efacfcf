package dev.valet.common.config;

import dev.valet.common.crypto.PageKey;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * End-to-end page encryption ({@code encryption} in valet.yaml; docs/security.md).
 *
 * @param mode    {@code aes-256-gcm}: every page is encrypted before it leaves the machine and authenticated when
 *                it comes back, so donors and the network see only ciphertext; {@code off} (the default): pages
 *                leave in clear (a startup line says so)
 * @param keyFile the page key: a file of at least {@value PageKey#MIN_KEY_FILE_BYTES} random bytes that neither
 *                group nor others may read or write (mode 0600); the AES key is HKDF-SHA256 of its bytes. With
 *                {@code none} (the default) the key is derived from the cluster secret ({@code auth.secretFile})
 *                and the identity, which every donor also holds: it protects the wire and the donors' memory
 *                from others, not from a donor's operator. A relative path is relative to the YAML file's
 *                directory
 */
public record EncryptionConfig(EncryptionMode mode, @RelativeToConfigFile String keyFile) {
    public static final EncryptionConfig DEFAULTS = new EncryptionConfig(EncryptionMode.OFF, OptionalPath.NONE);

    public EncryptionConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(keyFile, "keyFile");
    }

    public boolean enabled() {
        return mode != EncryptionMode.OFF;
    }

    /** The key file, or empty when the key is derived from the cluster secret. */
    public Optional<Path> keyPath() {
        return OptionalPath.of(keyFile);
    }

    /**
     * The page key, or empty when {@code mode} is {@code off}: from {@code keyFile}, else derived from the cluster
     * secret and {@code identity}.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public Optional<PageKey> loadKey(AuthConfig auth, String identity) {
        if (!enabled()) {
            return Optional.empty();
        }
        Optional<Path> path = keyPath();
        if (path.isPresent()) {
            return Optional.of(PageKey.fromFile(path.get(), identity));
        }
        return Optional.of(PageKey.fromClusterSecret(auth.loadSecret().orElseThrow(() -> new IllegalArgumentException(
                "encryption.mode aes-256-gcm without encryption.keyFile needs auth.secretFile")), identity));
    }

    /**
     * @param auth the client's {@code auth} section: without a key file the key comes from its secret
     * @throws ConfigProblem with the key path relative to {@code encryption}; reads the key file to check it
     */
    void validate(AuthConfig auth) {
        OptionalPath.check("keyFile", keyFile);
        Optional<Path> path = keyPath();
        if (path.isPresent()) {
            String problem = PageKey.problemWith(path.get());
            if (problem != null) {
                throw new ConfigProblem("keyFile", problem);
            }
        } else if (enabled() && auth.secretPath().isEmpty()) {
            throw new ConfigProblem("keyFile", "aes-256-gcm needs a key: set encryption.keyFile (a file of at least "
                    + PageKey.MIN_KEY_FILE_BYTES + " random bytes, mode 0600), or auth.secretFile to derive one"
                    + " from the cluster secret");
        }
    }
}
