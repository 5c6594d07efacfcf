package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * {@code transport: auto}: per donor, RDMA when this host has a device and the donor accepts an RDMA connection on
 * its port, else TCP. Logs which one each donor got.
 */
public final class AutoTransport implements DonorTransport {
    private static final Logger LOG = LoggerFactory.getLogger(AutoTransport.class);

    private final DonorTransport rdma;
    private final DonorTransport tcp;

    /** @param rdma null when this host cannot do RDMA (then every donor gets TCP) */
    public AutoTransport(DonorTransport rdma, DonorTransport tcp) {
        this.rdma = rdma;
        this.tcp = tcp;
    }

    @Override
    public CompletableFuture<DonorConnection> connect(DonorAddress address, String identity,
                                                      Duration handshakeTimeout) {
        if (rdma == null) {
            return tcp.connect(address, identity, handshakeTimeout).thenApply(c -> {
                LOG.info("{}: transport tcp (no RDMA on this host)", address);
                return c;
            });
        }
        return rdma.connect(address, identity, handshakeTimeout).handle((c, err) -> {
            if (err == null) {
                LOG.info("{}: transport rdma", address);
                return CompletableFuture.completedFuture(c);
            }
            Throwable cause = err.getCause() != null ? err.getCause() : err;
            LOG.info("{}: transport tcp (RDMA refused: {})", address, cause.getMessage());
            return tcp.connect(address, identity, handshakeTimeout);
        }).thenCompose(f -> f);
    }

    @Override
    public String name() {
        return "auto";
    }

    /** The TCP transport's, which the RDMA one shares ({@link Transports}). */
    @Override
    public WireCounters wire() {
        return tcp.wire();
    }

    @Override
    public EventLoopGroup eventLoops() {
        return tcp.eventLoops();
    }

    @Override
    public void close() {
        if (rdma != null) {
            rdma.close();
        }
        tcp.close();
    }
}
