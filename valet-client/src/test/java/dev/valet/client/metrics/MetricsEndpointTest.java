package dev.valet.client.metrics;

import dev.valet.client.engine.Engine;
import dev.valet.client.kernel.KernelChannel;
import dev.valet.client.tier.TierStats;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.metrics.MetricsEndpoint;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real donor processes with {@code metrics.listen} and an engine serving its own endpoint, all on loopback:
 * each {@code /metrics} is valid exposition, and its series move after pages are written and read, and after a
 * donor is killed.
 */
class MetricsEndpointTest {
    private static final int PAGES = 256;
    /** Kernel channel counters: requests 1, reads 2, writes 3, flushes 4, invalid 5, failed 6, ... 2 s in engine. */
    private static final KernelChannel.Stats KERNEL = new KernelChannel.Stats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
            13, 2_000_000_000L);
    /** Host tier counters: slots 1, writes 2, ..., hits 5, ..., dirty 9, clean 10, free 11, ... */
    private static final TierStats TIER = new TierStats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

    @TempDir
    Path dir;

    @Test
    void donorAndClientSeriesMoveWithWritesReadsAndADeadDonor() throws Exception {
        List<DonorProcess> donors = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                donors.add(DonorProcess.start(dir, "m" + i,
                        "memory: 64M\nlockMemory: false\nmetrics:\n  listen: 127.0.0.1:0\n"));
            }
            ClientConfig config = ConfigLoader.parse("metrics-test", """
                    identity: metrics-test
                    swapSpace: 8M
                    slabSize: 1M
                    placement:
                      numReplica: 2
                    failover:
                      heartbeatInterval: 100ms
                      donorTimeout: 2s
                    metrics:
                      listen: 127.0.0.1:0
                    """, ClientConfig.class);
            List<DonorAddress> addresses = donors.stream().map(DonorProcess::address).toList();
            try (Engine engine = Engine.start(config, addresses);
                 MetricsEndpoint endpoint = MetricsEndpoint.start(config.metrics(),
                         new ClientMetrics(engine, () -> KERNEL, () -> TIER), null, config.tls())) {
                Scrape before = Scrape.of(endpoint.url());
                assertThat(before.value("valet_client_write_pages_total")).isZero();
                assertThat(before.value("valet_client_donors{state=\"live\"}")).isEqualTo(3);
                assertThat(before.value("valet_client_slabs_mapped")).isZero();
                // The kernel channel's and the host tier's counters, as valet client passes them (no device here).
                assertThat(before.value("valet_client_kernel_requests_total{op=\"write\"}")).isEqualTo(3);
                assertThat(before.value("valet_client_kernel_failed_requests_total")).isEqualTo(6);
                assertThat(before.value("valet_client_kernel_engine_seconds_total")).isEqualTo(2.0);
                assertThat(before.value("valet_client_tier_pages{state=\"dirty\"}")).isEqualTo(9);
                assertThat(before.value("valet_client_tier_hit_pages_total")).isEqualTo(5);
                Scrape donorBefore = Scrape.of(donors.get(0).metricsUrl());
                assertThat(donorBefore.value("valet_donor_lent_bytes")).isZero();
                assertThat(donorBefore.value("valet_donor_lend_limit_bytes")).isEqualTo(64 << 20);

                ByteBuf buf = Unpooled.buffer(PAGES * FrameHeader.PAGE_SIZE);
                buf.writeZero(buf.capacity());
                buf.setByte(0, 7);
                engine.write(0, PAGES, buf, 0).join();
                engine.read(0, PAGES, buf, 0).join();
                buf.release();

                Scrape after = Scrape.of(endpoint.url());
                assertThat(after.value("valet_client_write_pages_total")).isEqualTo(PAGES);
                assertThat(after.value("valet_client_read_pages_total")).isEqualTo(PAGES);
                assertThat(after.value("valet_client_write_bytes_total")).isEqualTo(PAGES * 4096.0);
                assertThat(after.value("valet_client_slabs_mapped")).isEqualTo(1);
                assertThat(after.sum("valet_client_donor_slabs{")).isEqualTo(2);
                assertThat(after.sum("valet_client_request_duration_seconds_count{")).isPositive();
                String holder = engine.slabMap().slabOf(0).replicas().get(0).address().toString();
                assertThat(after.value("valet_client_request_duration_seconds_count{donor=\"" + holder
                        + "\",op=\"write\"}")).isPositive();
                assertThat(after.value("valet_client_request_duration_seconds_bucket{donor=\"" + holder
                        + "\",op=\"write\",le=\"+Inf\"}")).isPositive();

                double lent = 0;
                double served = 0;
                for (DonorProcess d : donors) {
                    Scrape s = Scrape.of(d.metricsUrl());
                    lent += s.value("valet_donor_lent_bytes");
                    served += s.value("valet_donor_pages_served_total");
                    assertThat(s.value("valet_donor_connections")).isEqualTo(1);
                }
                assertThat(lent).as("two copies of one 1M slab").isEqualTo(2 << 20);
                assertThat(served).as("two copies written, one read").isGreaterThanOrEqualTo(3 * PAGES);
                DonorProcess holderProcess = donors.stream().filter(d -> d.address().toString().equals(holder))
                        .findFirst().orElseThrow();
                assertThat(Scrape.of(holderProcess.metricsUrl()).value("valet_donor_client_slabs{client=\""
                        + "metrics-test\"}")).isEqualTo(1);

                holderProcess.kill();
                Await.until("the killed donor counted dead and the slab re-replicated", Duration.ofSeconds(30),
                        () -> {
                            Scrape s = Scrape.unchecked(endpoint.url());
                            return s.value("valet_client_donor_up{donor=\"" + holder + "\"}") == 0
                                    && s.value("valet_client_rereplicated_slabs_total") >= 1
                                    && s.value("valet_client_slabs_degraded") == 0;
                        });
            }
        } finally {
            donors.forEach(DonorProcess::close);
        }
    }
}
