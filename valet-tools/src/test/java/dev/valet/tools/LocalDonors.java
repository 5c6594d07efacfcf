package dev.valet.tools;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import dev.valet.donor.DonorProcess;
import dev.valet.donor.server.DonorServer;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Real donors on loopback for the tools' tests (valet-client's test fixtures are not visible from here): donor
 * processes, donor servers in this JVM, a TCP transport to them, and configurations written as the YAML a user
 * would write.
 */
public final class LocalDonors {
    private LocalDonors() {
    }

    /** A donor process lending {@code memory}, with more of donor.yaml's keys in {@code moreYaml}. */
    public static DonorProcess process(Path dir, String name, String memory, String moreYaml) throws IOException {
        return DonorProcess.start(dir, name, "memory: " + memory + "\n" + moreYaml);
    }

    /** A donor server in this JVM and where it listens. */
    public record InProcessDonor(DonorServer server, DonorAddress address) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
        }
    }

    /** A started donor server in this JVM on a free loopback port, lending {@code memory}, not locking it. */
    public static InProcessDonor inProcess(String memory) throws IOException, InterruptedException {
        DonorServer server = new DonorServer(ConfigLoader.parse("in-process donor", """
                listen: 127.0.0.1:%d
                memory: %s
                lockMemory: false
                """.formatted(freePort(), memory), DonorConfig.class));
        int port = server.start().getPort();
        return new InProcessDonor(server, DonorAddress.parse("127.0.0.1:" + port));
    }

    public static TcpTransport tcp() {
        return new TcpTransport(NettyTransport.select(), 2, Duration.ofSeconds(5), Duration.ofSeconds(10), 128);
    }

    public static DonorConnection connect(TcpTransport transport, DonorProcess donor, String identity) {
        return transport.connect(donor.address(), identity).join();
    }

    /** A client configuration from valet.yaml text. */
    public static ClientConfig client(String yaml) {
        return ConfigLoader.parse("test valet.yaml", yaml, ClientConfig.class);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
