package dev.valet.donor.server;

import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.config.TransportChoice;
import dev.valet.common.rdma.Rdma;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The donor's {@code transport} key on a host without an RDMA device (the VM lab covers the device side). */
class DonorServerTransportTest {

    @BeforeAll
    static void thisHostHasNoRdmaDevice() {
        assumeTrue(Rdma.unavailableReason() != null, "this test is about a host without RDMA");
    }

    private static DonorConfig config(TransportChoice t) throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        return ConfigLoader.parse("donor.yaml", "listen: 127.0.0.1:" + port + "\ntransport: " + t + "\n",
                DonorConfig.class);
    }

    @Test
    void autoServesTcpOnlyAndSaysSo() throws Exception {
        try (DonorServer server = new DonorServer(config(TransportChoice.AUTO))) {
            InetSocketAddress bound = server.start();
            assertThat(server.servesRdma()).isFalse();
            try (Socket s = new Socket(bound.getAddress(), bound.getPort())) {
                assertThat(s.isConnected()).isTrue();
            }
        }
    }

    @Test
    void rdmaRefusesToStartNamingTheReason() throws Exception {
        DonorServer server = new DonorServer(config(TransportChoice.RDMA));
        try {
            assertThatThrownBy(server::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("transport rdma: cannot serve RDMA on")
                    .hasMessageContaining("no RDMA device");
        } finally {
            server.close();
        }
    }
}
