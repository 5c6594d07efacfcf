package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;

import java.util.concurrent.CompletableFuture;

/** Opens {@link DonorConnection}s over one kind of link (TCP, RDMA, or either: {@code transport} in valet.yaml). */
public interface DonorTransport extends AutoCloseable {

    /** Connects and says HELLO as {@code identity}; completes when the donor has accepted. */
    CompletableFuture<DonorConnection> connect(DonorAddress address, String identity);

    /** "tcp", "rdma" or "auto", for logs. */
    String name();

    /** Closes every connection this transport opened. */
    @Override
    void close();
}
