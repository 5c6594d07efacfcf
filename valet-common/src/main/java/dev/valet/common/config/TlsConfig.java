package dev.valet.common.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Optional TLS around every client-donor connection ({@code tls} in donor.yaml and valet.yaml; the JDK's TLS
 * through netty). The HMAC handshake of {@link AuthConfig} still runs inside it. Paths are PEM files; a relative
 * path is relative to the YAML file's directory.
 *
 * @param enabled             whether connections use TLS; both sides must agree; default {@code false}
 * @param certificateChain    this side's certificate chain (PEM). Required on a donor; on a client, sent when the
 *                            donor asks for a client certificate; default {@code none}
 * @param privateKey          the private key of {@code certificateChain} (PEM, PKCS#8, unencrypted); given
 *                            together with {@code certificateChain}; default {@code none}
 * @param trustedCertificates the certificates (PEM) the peer's certificate must chain to. Required on a client,
 *                            which checks the donor's certificate against it; on a donor, setting it makes every
 *                            client present a certificate that chains to it; default {@code none}
 */
public record TlsConfig(boolean enabled, @RelativeToConfigFile String certificateChain,
                        @RelativeToConfigFile String privateKey, @RelativeToConfigFile String trustedCertificates) {
    public static final TlsConfig DEFAULTS = new TlsConfig(false, OptionalPath.NONE, OptionalPath.NONE,
            OptionalPath.NONE);

    public TlsConfig {
        Objects.requireNonNull(certificateChain, "certificateChain");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trustedCertificates, "trustedCertificates");
    }

    public Optional<Path> certificateChainPath() {
        return OptionalPath.of(certificateChain);
    }

    public Optional<Path> privateKeyPath() {
        return OptionalPath.of(privateKey);
    }

    public Optional<Path> trustedCertificatesPath() {
        return OptionalPath.of(trustedCertificates);
    }

    /**
     * @param donor whether this is a donor's (which must have its own certificate) or a client's (which must
     *              have certificates to check the donor's against)
     * @throws ConfigProblem with the key path relative to {@code tls}
     */
    void validate(boolean donor) {
        requireReadableOrNone("certificateChain", certificateChain);
        requireReadableOrNone("privateKey", privateKey);
        requireReadableOrNone("trustedCertificates", trustedCertificates);
        if (certificateChainPath().isPresent() != privateKeyPath().isPresent()) {
            throw new ConfigProblem(certificateChainPath().isPresent() ? "privateKey" : "certificateChain",
                    "certificateChain and privateKey go together: set both or neither");
        }
        if (!enabled) {
            return;
        }
        if (donor && certificateChainPath().isEmpty()) {
            throw new ConfigProblem("certificateChain", "a donor with TLS enabled needs its certificate chain"
                    + " and private key");
        }
        if (!donor && trustedCertificatesPath().isEmpty()) {
            throw new ConfigProblem("trustedCertificates", "a client with TLS enabled needs the certificates"
                    + " to check the donors' against");
        }
    }

    private static void requireReadableOrNone(String key, String value) {
        OptionalPath.check(key, value);
        Optional<Path> path = OptionalPath.of(value);
        if (path.isPresent() && !Files.isReadable(path.get())) {
            throw new ConfigProblem(key, "cannot read " + path.get());
        }
    }
}
