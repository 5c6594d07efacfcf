package dev.valet.common.net;

import dev.valet.common.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Netty TLS contexts from a {@link TlsConfig}, on the JDK's own TLS engine ({@link SslProvider#JDK}): no native
 * library. The client checks the donor's certificate against {@code trustedCertificates} and that it names the
 * donor's address (host name or IP subject alternative name, as {@code portal.list} writes it); a server (a donor,
 * or a client's NBD export) with {@code trustedCertificates} requires and checks a client certificate.
 */
public final class TlsContexts {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private TlsContexts() {
    }

    /**
     * A server's context (a donor's, or a client's NBD export over TCP): its own certificate chain and key, and with
     * {@code trustedCertificates} a client certificate that chains to them is required. Empty when TLS is off.
     */
    public static Optional<SslContext> forServer(TlsConfig tls) {
        if (!tls.enabled()) {
            return Optional.empty();
        }
        try {
            SslContextBuilder b = SslContextBuilder.forServer(file(tls.certificateChainPath(), "certificateChain"),
                    file(tls.privateKeyPath(), "privateKey"));
            if (tls.trustedCertificatesPath().isPresent()) {
                b.trustManager(tls.trustedCertificatesPath().get().toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            return Optional.of(b.sslProvider(SslProvider.JDK).protocols(PROTOCOLS).build());
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tls: cannot use the certificate files: " + e.getMessage(), e);
        }
    }

    /** The client's context, or empty when TLS is off. */
    public static Optional<SslContext> forClient(TlsConfig tls) {
        if (!tls.enabled()) {
            return Optional.empty();
        }
        try {
            // HTTPS-style endpoint identification: the donor's certificate must name the address we dialled.
            SslContextBuilder b = SslContextBuilder.forClient()
                    .trustManager(file(tls.trustedCertificatesPath(), "trustedCertificates"))
                    .endpointIdentificationAlgorithm("HTTPS");
            if (tls.certificateChainPath().isPresent()) {
                b.keyManager(tls.certificateChainPath().get().toFile(), file(tls.privateKeyPath(), "privateKey"));
            }
            return Optional.of(b.sslProvider(SslProvider.JDK).protocols(PROTOCOLS).build());
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tls: cannot use the certificate files: " + e.getMessage(), e);
        }
    }

    private static java.io.File file(Optional<Path> path, String key) {
        return path.orElseThrow(() -> new IllegalArgumentException("tls." + key + " is not set")).toFile();
    }
}
