package dev.valet.client.transport.rdma;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.rdma.CmEvent;
import dev.valet.common.rdma.CmEventChannel;
import dev.valet.common.rdma.ConnectionParameters;
import dev.valet.common.rdma.NativeMemory;
import dev.valet.common.rdma.Rdma;
import dev.valet.common.rdma.SocketAddresses;
import dev.valet.common.rdma.VerbsLayout;

import java.io.IOException;
import java.time.Duration;

/** The rdma_cm steps of a client connection: resolve the donor's address and route, then connect. */
final class RdmaConnector {
    private RdmaConnector() {
    }

    /** Resolves address and route of {@code cmId}, so its device is known and a queue pair can be made on it. */
    static void resolve(Rdma rdma, CmEventChannel events, long cmId, DonorAddress address, Duration timeout)
            throws IOException {
        int timeoutMs = millis(timeout);
        long sa = SocketAddresses.sockaddrIn(address.toSocketAddress());
        try {
            if (rdma.cm().rdma_resolve_addr(cmId, 0, sa, timeoutMs) != 0) {
                throw new IOException(rdma.lastError("rdma_resolve_addr"));
            }
        } finally {
            NativeMemory.free(sa);
        }
        events.expect(VerbsLayout.RDMA_CM_EVENT_ADDR_RESOLVED, timeoutMs, "resolving " + address);
        if (rdma.cm().rdma_resolve_route(cmId, timeoutMs) != 0) {
            throw new IOException(rdma.lastError("rdma_resolve_route"));
        }
        events.expect(VerbsLayout.RDMA_CM_EVENT_ROUTE_RESOLVED, timeoutMs, "route to " + address);
    }

    /** Connects {@code cmId} (its queue pair made) and waits until the donor accepted. */
    static void establish(Rdma rdma, CmEventChannel events, long cmId, DonorAddress address, Duration timeout)
            throws IOException {
        int timeoutMs = millis(timeout);
        long param = ConnectionParameters.allocate();
        try {
            if (rdma.cm().rdma_connect(cmId, param) != 0) {
                throw new IOException(rdma.lastError("rdma_connect"));
            }
        } finally {
            NativeMemory.free(param);
        }
        CmEvent e = events.next(timeoutMs);
        if (e == null || e.type() != VerbsLayout.RDMA_CM_EVENT_ESTABLISHED) {
            throw new IOException(address + " offers no RDMA connection: "
                    + (e == null ? "no answer within " + timeoutMs + " ms"
                    : e.name() + " (status " + e.status() + ")"));
        }
    }

    private static int millis(Duration timeout) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }
}
