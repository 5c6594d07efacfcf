package dev.valet.cli;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.Transports;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.portal.DonorAddress;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Opens connections to a list of donors for the client commands. */
final class Connections {
    private static final int HANDSHAKE_ATTEMPTS = 3;
    private Connections() {
    }

    static DonorTransport transport(ClientConfig c) {
        return Transports.open(c);
    }

    /** One future per donor, in order; each fails on its own if that donor cannot be reached. */
    static List<CompletableFuture<DonorConnection>> open(DonorTransport transport, List<DonorAddress> donors,
                                                         String identity) {
        List<CompletableFuture<DonorConnection>> futures = new ArrayList<>();
        for (DonorAddress a : donors) {
            futures.add(transport.connect(a, identity));
        }
        return futures;
    }

    /** Connections to every donor, or an exception naming the first that failed. */
    static List<DonorConnection> openAll(DonorTransport transport, List<DonorAddress> donors, String identity) {
        return joinAll(open(transport, donors, identity));
    }

    /**
     * Like {@link #openAll(DonorTransport, List, String)}, but a handshake that times out (a busy donor or host) is
     * tried again with twice {@code connectTimeout}, then four times it, before that donor counts as unreachable.
     */
    static List<DonorConnection> openAllPatiently(DonorTransport transport, List<DonorAddress> donors,
                                                  String identity, Duration connectTimeout) {
        List<CompletableFuture<DonorConnection>> futures = new ArrayList<>();
        for (DonorAddress a : donors) {
            futures.add(transport.connectPatiently(a, identity, connectTimeout, HANDSHAKE_ATTEMPTS));
        }
        return joinAll(futures);
    }

    private static List<DonorConnection> joinAll(List<CompletableFuture<DonorConnection>> futures) {
        List<DonorConnection> open = new ArrayList<>();
        for (CompletableFuture<DonorConnection> f : futures) {
            try {
                open.add(f.join());
            } catch (CompletionException e) {
                open.forEach(DonorConnection::close);
                throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
            }
        }
        return open;
    }
}
