package dev.valet.client.transport;

import dev.valet.client.DonorFixture;
import dev.valet.client.transport.rdma.RdmaTransport;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.TransportChoice;
import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code transport: tcp | rdma | auto} against a real donor process, on a host without an RDMA device (the build
 * machine; the VM lab's rdma-* scenarios cover the device side): auto falls back to TCP and works, rdma refuses
 * with the reason, tcp is TCP.
 */
class TransportsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void thisHostHasNoRdmaDevice() {
        assumeTrue(RdmaTransport.unavailableReason() != null, "this test is about a host without RDMA");
    }

    private static ClientConfig config(TransportChoice t) {
        return ConfigLoader.parse("valet.yaml", "transport: " + t + "\nconnectTimeout: 5s\n", ClientConfig.class);
    }

    @Test
    void autoFallsBackToTcpAndTheConnectionWorks() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "auto", "16M");
             DonorTransport t = Transports.open(config(TransportChoice.AUTO))) {
            assertThat(t.name()).isEqualTo("auto");
            DonorConnection c = t.connect(donor.address(), "t-auto").join();
            try {
                assertThat(c.toString()).doesNotContain("rdma");
                c.allocateSlab(1, 1 << 20).join();
                assertThat(c.listSlabs().join().slabs()).hasSize(1);
            } finally {
                c.close();
            }
        }
    }

    @Test
    void rdmaWithoutADeviceFailsNamingWhy() throws Exception {
        try (DonorProcess donor = DonorFixture.donor(dir, "rdma", "16M");
             DonorTransport t = Transports.open(config(TransportChoice.RDMA))) {
            assertThat(t.name()).isEqualTo("rdma");
            assertThatThrownBy(() -> t.connect(donor.address(), "t-rdma").join())
                    .isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(DonorUnavailableException.class)
                    .hasMessageContaining(donor.address().toString())
                    .hasMessageContaining("RDMA");
        }
    }

    @Test
    void tcpIsTcp() {
        try (DonorTransport t = Transports.open(config(TransportChoice.TCP))) {
            assertThat(t.name()).isEqualTo("tcp");
        }
    }
}
