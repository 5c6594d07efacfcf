package dev.valet.client.transport.rdma;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.TransportSecurity;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.rdma.Rdma;
import dev.valet.common.rdma.RdmaUnavailableException;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Opens {@link DonorConnection}s over RDMA (rdma_cm to the donor's address and port, in rdma_cm's port space).
 * Each connection has its own thread and queue pair; closing the transport closes them all.
 */
public final class RdmaTransport implements DonorTransport {
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final int maxPagesPerRequest;
    private final TransportSecurity security;
    private final WireCounters wire;
    private final Set<RdmaDonorConnection> connections = ConcurrentHashMap.newKeySet();

    /**
     * @param security the cluster secret the handshake proves and demands (as over TCP); TLS cannot be used over
     *                 RDMA, so with TLS configured every connection is refused
     * @param wire     where replies and their round trips are counted, per donor (shared with TCP's under auto)
     */
    public RdmaTransport(Duration connectTimeout, Duration requestTimeout, int maxPagesPerRequest,
                         TransportSecurity security, WireCounters wire) {
        this.connectTimeout = connectTimeout;
        this.requestTimeout = requestTimeout;
        this.maxPagesPerRequest = maxPagesPerRequest;
        this.security = security;
        this.wire = wire;
    }

    /** Why this host cannot use RDMA, or null when it can (libraries, layout check, at least one device). */
    public static String unavailableReason() {
        return Rdma.unavailableReason();
    }

    @Override
    public CompletableFuture<DonorConnection> connect(DonorAddress address, String identity,
                                                      Duration handshakeTimeout) {
        String refusal = security.tls() != null
                ? "tls.enabled: RDMA traffic would not be encrypted; use transport tcp (or auto, which then uses TCP)"
                : security.refusal(address);
        if (refusal != null) {
            return CompletableFuture.failedFuture(new DonorUnavailableException(address + ": " + refusal));
        }
        RdmaDonorConnection c;
        try {
            c = new RdmaDonorConnection(address, handshakeTimeout != null ? handshakeTimeout : connectTimeout,
                    requestTimeout, maxPagesPerRequest, security.secret(), wire);
        } catch (RdmaUnavailableException e) {
            return CompletableFuture.failedFuture(new DonorUnavailableException(address + ": " + e.getMessage(), e));
        }
        connections.add(c);
        c.closed().whenComplete((v, e) -> connections.remove(c));
        return c.open(identity).handle((conn, err) -> {
            if (err != null) {
                c.close();
                Throwable cause = err.getCause() != null ? err.getCause() : err;
                throw new DonorUnavailableException(address + ": cannot connect over RDMA: " + cause.getMessage(),
                        cause, timedOut(cause));
            }
            return conn;
        });
    }

    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ControlFrames.CompletionTimeout || DonorUnavailableException.isTimeout(t)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String name() {
        return "rdma";
    }

    @Override
    public WireCounters wire() {
        return wire;
    }

    @Override
    public void close() {
        for (RdmaDonorConnection c : connections) {
            c.close();
        }
    }
}
