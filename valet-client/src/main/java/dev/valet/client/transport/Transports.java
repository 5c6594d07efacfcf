package dev.valet.client.transport;

import dev.valet.client.transport.rdma.RdmaTransport;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.common.config.ClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link DonorTransport} the {@code transport} key of valet.yaml asks for. */
public final class Transports {
    private static final Logger LOG = LoggerFactory.getLogger(Transports.class);

    private Transports() {
    }

    public static DonorTransport open(ClientConfig c) {
        return switch (c.transport()) {
            case TCP -> tcp(c);
            case RDMA -> {
                String why = RdmaTransport.unavailableReason();
                if (why != null) {
                    LOG.warn("transport rdma, but this host cannot do RDMA: {}; every donor will be unavailable", why);
                }
                yield rdma(c, new WireCounters());
            }
            case AUTO -> {
                String why = c.tls().enabled() ? "tls.enabled: RDMA traffic would not be encrypted"
                        : RdmaTransport.unavailableReason();
                if (why != null) {
                    LOG.info("transport auto: TCP ({})", why);
                }
                DonorTransport tcp = tcp(c);
                // One set of counters, so a donor's series are the same whichever link it got.
                yield new AutoTransport(why == null ? rdma(c, tcp.wire()) : null, tcp);
            }
        };
    }

    /** Netty's default event loops (two per core), or nbd.eventLoops while the client serves NBD. */
    private static DonorTransport tcp(ClientConfig c) {
        return TcpTransport.of(c, c.nbd().enabled() ? c.nbd().eventLoops() : 0);
    }

    private static DonorTransport rdma(ClientConfig c, WireCounters wire) {
        return new RdmaTransport(c.connectTimeout(), c.requestTimeout(), c.maxPagesPerFrame(),
                TransportSecurity.of(c), wire);
    }
}
