package dev.valet.client.transport;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.net.TlsContexts;
import dev.valet.common.portal.DonorAddress;
import io.netty.handler.ssl.SslContext;

/**
 * How a client secures its donor connections: the cluster secret it proves and demands (or none), TLS (or none),
 * and whether, without a secret, it may talk to donors beyond loopback.
 *
 * @param secret               the cluster secret, or {@code null} for no authentication
 * @param tls                  the TLS context, or {@code null} for plain TCP
 * @param allowUnauthenticated without a secret, whether donors that are not on loopback may be used
 */
public record TransportSecurity(ClusterSecret secret, SslContext tls, boolean allowUnauthenticated) {
    /** No secret, no TLS: loopback donors only. */
    public static final TransportSecurity NONE = new TransportSecurity(null, null, false);

    /** What {@code auth} and {@code tls} in valet.yaml ask for; reads the secret and certificate files. */
    public static TransportSecurity of(ClientConfig config) {
        return new TransportSecurity(config.auth().loadSecret().orElse(null),
                TlsContexts.forClient(config.tls()).orElse(null), config.auth().allowUnauthenticated());
    }

    /** With this secret and no TLS. */
    public static TransportSecurity withSecret(ClusterSecret secret) {
        return new TransportSecurity(secret, null, false);
    }

    /**
     * Why this client may not connect to {@code address} at all, or {@code null}: without a secret, only donors on
     * loopback, unless {@code auth.allowUnauthenticated}.
     */
    public String refusal(DonorAddress address) {
        if (secret == null && !allowUnauthenticated && !address.isLoopback()) {
            return "refusing to connect to " + address + " without authentication: set auth.secretFile in"
                    + " valet.yaml to the cluster secret, or auth.allowUnauthenticated: true";
        }
        return null;
    }
}
