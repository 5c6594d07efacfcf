package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;

import java.util.Objects;

/**
 * The NBD front end ({@code nbd} in valet.yaml, docs/nbd.md): the client serves its swap space as one NBD export
 * instead of the valet driver's /dev/valetN.
 *
 * @param listen          where the export is served: {@code unix:/path/of/socket} or {@code tcp:host:port};
 *                        empty (the default) serves /dev/valetN instead
 * @param allowInsecure   whether {@code listen} may be a TCP address other than loopback without TLS (the
 *                        {@code tls} section): plain NBD has no authentication, so anyone who can reach the port
 *                        can read and write the swap space; default {@code false}
 * @param maxRequestBytes largest READ or WRITE a client may send, advertised as the export's maximum block size;
 *                        each connection keeps one buffer of this size per request in flight: as many as fit in
 *                        32M, but at least 4 and at most 64; default {@code 2M}, allowed {@code 4K} to
 *                        {@code 32M}, a multiple of {@code 4K}
 */
public record NbdConfig(String listen, boolean allowInsecure, ByteSize maxRequestBytes) {
    public static final NbdConfig DEFAULTS = new NbdConfig("", false, ByteSize.ofMebibytes(2));
    public static final String UNIX_PREFIX = "unix:";
    public static final String TCP_PREFIX = "tcp:";

    public NbdConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(maxRequestBytes, "maxRequestBytes");
    }

    /** Whether the NBD export is served ({@code listen} is set). */
    public boolean enabled() {
        return !listen.isEmpty();
    }

    /** The socket path of a {@code unix:} endpoint, or null for {@code tcp:}. */
    public String unixPath() {
        return listen.startsWith(UNIX_PREFIX) ? listen.substring(UNIX_PREFIX.length()) : null;
    }

    /** The address of a {@code tcp:} endpoint, or null for {@code unix:}. */
    public DonorAddress tcpAddress() {
        return listen.startsWith(TCP_PREFIX) ? DonorAddress.parse(listen.substring(TCP_PREFIX.length())) : null;
    }

    /**
     * Whether clients must start TLS (NBD_OPT_STARTTLS) before anything else: on a TCP endpoint when the client's
     * {@code tls} section is enabled. A unix socket is guarded by its file's permissions and never offers TLS.
     */
    public boolean tlsRequired(TlsConfig tls) {
        return tls.enabled() && enabled() && unixPath() == null;
    }

    /**
     * @param tls the client's {@code tls} section: with it enabled a TCP endpoint may be on any address
     * @throws ConfigProblem with the key path relative to {@code nbd}
     */
    void validate(TlsConfig tls) {
        ConfigRules.requireBetween("maxRequestBytes", maxRequestBytes, ByteSize.ofKibibytes(4),
                ByteSize.ofMebibytes(32));
        ConfigRules.requireMultipleOf("maxRequestBytes", maxRequestBytes, 4096);
        if (!enabled()) {
            return;
        }
        if (listen.startsWith(UNIX_PREFIX)) {
            if (unixPath().isEmpty()) {
                throw new ConfigProblem("listen", "'" + listen + "' has no socket path (expected unix:/path)");
            }
            return;
        }
        if (!listen.startsWith(TCP_PREFIX)) {
            throw new ConfigProblem("listen", "'" + listen + "' is neither unix:/path nor tcp:host:port");
        }
        DonorAddress address;
        try {
            address = tcpAddress();
        } catch (IllegalArgumentException e) {
            throw new ConfigProblem("listen", e.getMessage());
        }
        if (tls.enabled() && (tls.certificateChainPath().isEmpty() || tls.privateKeyPath().isEmpty())) {
            throw new ConfigProblem("listen", "serving NBD over TCP with tls.enabled needs this client's own"
                    + " certificate: set tls.certificateChain and tls.privateKey (NBD clients check it)");
        }
        if (!address.isLoopback() && !allowInsecure && !tls.enabled()) {
            throw new ConfigProblem("listen", "refusing to serve NBD on " + address + ", which is not loopback,"
                    + " without TLS: any host that can reach it could read and write the swap space; listen on"
                    + " 127.0.0.1 or a unix socket, enable tls (clients then must use STARTTLS), or set"
                    + " nbd.allowInsecure: true");
        }
    }
}
