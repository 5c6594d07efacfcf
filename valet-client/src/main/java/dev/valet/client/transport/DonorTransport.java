package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;
import io.netty.channel.EventLoopGroup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Opens {@link DonorConnection}s over one kind of link (TCP, RDMA, or either: {@code transport} in valet.yaml). */
public interface DonorTransport extends AutoCloseable {

    /** Connects and says HELLO as {@code identity} within the configured {@code connectTimeout}. */
    default CompletableFuture<DonorConnection> connect(DonorAddress address, String identity) {
        return connect(address, identity, null);
    }

    /**
     * Connects and says HELLO as {@code identity}; completes when the donor has accepted, or fails with
     * {@link DonorUnavailableException} (a {@link java.net.ConnectException} cause when the donor's host refused the
     * connection). {@code handshakeTimeout} replaces the configured {@code connectTimeout} when not null: the pool
     * grows it for a donor whose handshake timed out.
     */
    CompletableFuture<DonorConnection> connect(DonorAddress address, String identity, Duration handshakeTimeout);

    /**
     * Like {@link #connect(DonorAddress, String)}, but a handshake that times out (a busy donor or host, not a
     * refusal) is tried again with twice the time, up to {@code attempts} times in all: what a one-shot tool such
     * as {@code valet check} needs on a loaded machine.
     */
    default CompletableFuture<DonorConnection> connectPatiently(DonorAddress address, String identity,
                                                              Duration handshakeTimeout, int attempts) {
        return connect(address, identity, handshakeTimeout).handle((c, err) -> {
            if (err == null) {
                return CompletableFuture.completedFuture(c);
            }
            if (attempts > 1 && DonorUnavailableException.isTimeout(err)) {
                return connectPatiently(address, identity, handshakeTimeout.multipliedBy(2), attempts - 1);
            }
            return CompletableFuture.<DonorConnection>failedFuture(err);
        }).thenCompose(f -> f);
    }

    /**
     * What this transport's connections put on the wire: replies and round trips per donor over TCP and RDMA;
     * frames and flushes over TCP only.
     */
    default WireCounters wire() {
        return WireCounters.NONE;
    }

    /**
     * The netty event loops this transport's connections run on, or null when it has none (RDMA). A front end
     * whose channels run on them too hands requests to the donors' connections and takes their answers with no
     * hand-off between threads when both sit on the same loop.
     */
    default EventLoopGroup eventLoops() {
        return null;
    }

    /** "tcp", "rdma" or "auto", for logs. */
    String name();

    /** Closes every connection this transport opened. */
    @Override
    void close();
}
