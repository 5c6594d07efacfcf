package dev.valet.common.config;

import dev.valet.common.auth.ClusterSecret;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Peer authentication ({@code auth} in donor.yaml and valet.yaml; docs/security.md).
 *
 * @param secretFile           the cluster secret: a file of {@value ClusterSecret#MIN_BYTES} to
 *                             {@value ClusterSecret#MAX_BYTES} bytes that neither group nor others may read or
 *                             write (mode 0600). When set, every connection runs the HMAC handshake: a donor
 *                             refuses clients that cannot prove the secret, a client refuses donors that cannot.
 *                             A relative path is relative to the YAML file's directory; default {@code none}
 * @param allowUnauthenticated with no {@code secretFile}, whether to talk to peers that are not on loopback
 *                             anyway: a donor refuses to listen on a non-loopback address, and a client refuses
 *                             to connect to a non-loopback donor, unless this is {@code true}; default
 *                             {@code false}; must stay {@code false} when {@code secretFile} is set
 */
public record AuthConfig(@RelativeToConfigFile String secretFile, boolean allowUnauthenticated) {
    public static final AuthConfig DEFAULTS = new AuthConfig(OptionalPath.NONE, false);

    public AuthConfig {
        Objects.requireNonNull(secretFile, "secretFile");
    }

    /** The secret file, or empty when authentication is off. */
    public Optional<Path> secretPath() {
        return OptionalPath.of(secretFile);
    }

    /** The cluster secret, read from {@code secretFile}, or empty when authentication is off. */
    public Optional<ClusterSecret> loadSecret() {
        return secretPath().map(ClusterSecret::load);
    }

    /** @throws ConfigProblem with the key path relative to {@code auth}; reads the secret file to check it */
    void validate() {
        OptionalPath.check("secretFile", secretFile);
        Optional<Path> path = secretPath();
        if (path.isPresent()) {
            String problem = ClusterSecret.problemWith(path.get());
            if (problem != null) {
                throw new ConfigProblem("secretFile", problem);
            }
            if (allowUnauthenticated) {
                throw new ConfigProblem("allowUnauthenticated", "must be false when secretFile is set (peers"
                        + " always authenticate then)");
            }
        }
    }
}
