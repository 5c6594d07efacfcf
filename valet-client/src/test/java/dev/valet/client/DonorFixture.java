package dev.valet.client;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.common.net.NettyTransport;
import dev.valet.donor.DonorProcess;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** Real donor processes on loopback and a TCP transport to them, for the client's tests. */
public final class DonorFixture {
    private DonorFixture() {
    }

    /** A donor process lending {@code memory}, with the donor's default memory locking. */
    public static DonorProcess donor(Path dir, String name, String memory) throws IOException {
        return DonorProcess.start(dir, name, "memory: " + memory + "\n");
    }

    public static TcpTransport transport() {
        return new TcpTransport(NettyTransport.select(), 2, Duration.ofSeconds(5),
                Duration.ofSeconds(10), 128);
    }

    public static DonorConnection connect(TcpTransport transport, DonorProcess donor, String identity) {
        return transport.connect(donor.address(), identity).join();
    }
}
