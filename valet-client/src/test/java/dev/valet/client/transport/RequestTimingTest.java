package dev.valet.client.transport;

import dev.valet.common.metrics.LatencyHistogram;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.testing.ThreadAllocation;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one place TCP and RDMA connections record a request's round trip: into the donor's histogram of its kind and
 * the transport's reply counters, shared by every connection to that donor, without allocating.
 */
class RequestTimingTest {
    private static final DonorAddress DONOR = DonorAddress.parse("127.0.0.1:7070");
    private static final DonorAddress OTHER = DonorAddress.parse("127.0.0.1:7071");
    private static final long US = 1_000L;

    @Test
    void eachAnswerGoesToTheHistogramOfItsKindAndToTheReplyCounters() {
        WireCounters wire = new WireCounters();
        RequestTiming timing = new RequestTiming(wire, DONOR);

        assertThat(timing.answered(Opcode.READ_PAGES_OK, 1_000 * US, 1_300 * US)).isEqualTo(300 * US);
        timing.answered(Opcode.WRITE_PAGES_OK, 0, 2_000 * US);
        timing.answered(Opcode.WRITE_PAGES_OK, 5_000 * US, 5_040 * US);
        timing.answered(Opcode.STATS_OK, 0, 80 * US);
        timing.answered(Opcode.HELLO_OK, 0, 20 * US);

        DonorLatency latency = wire.latencies().get(DONOR.toString());
        assertThat(latency.reads().bucketCounts()).isEqualTo(counts(3));
        assertThat(latency.writes().bucketCounts()).isEqualTo(counts(5, 0)); // 2 ms (<= 2.5 ms) and 40 µs
        assertThat(latency.control().bucketCounts()).isEqualTo(counts(1, 0)); // 80 µs and 20 µs
        assertThat(latency.writes().sumSeconds()).isEqualTo(2.040e-3);
        assertThat(wire.replies()).isEqualTo(5);
        assertThat(wire.roundTripNanos()).isEqualTo((300 + 2_000 + 40 + 80 + 20) * US);
    }

    @Test
    void connectionsToOneDonorShareItsSeriesAndAnotherDonorHasItsOwn() {
        WireCounters wire = new WireCounters();
        RequestTiming first = new RequestTiming(wire, DONOR);
        RequestTiming reconnected = new RequestTiming(wire, DONOR);
        RequestTiming other = new RequestTiming(wire, OTHER);

        first.answered(Opcode.READ_PAGES_OK, 0, 100 * US);
        reconnected.answered(Opcode.READ_PAGES_OK, 0, 100 * US);
        other.answered(Opcode.WRITE_PAGES_OK, 0, 100 * US);

        assertThat(wire.latencies()).containsOnlyKeys(DONOR.toString(), OTHER.toString());
        assertThat(wire.latencies().get(DONOR.toString()).reads().count()).isEqualTo(2);
        assertThat(wire.latencies().get(DONOR.toString()).writes().count()).isZero();
        assertThat(wire.latencies().get(OTHER.toString()).writes().count()).isEqualTo(1);
    }

    @Test
    void recordingAllocatesNothing() throws Exception {
        RequestTiming timing = new RequestTiming(new WireCounters(), DONOR);
        long allocated = ThreadAllocation.of(() -> {
            for (int i = 0; i < 20_000; i++) {
                timing.answered(i % 2 == 0 ? Opcode.READ_PAGES_OK : Opcode.WRITE_PAGES_OK, 0, i * US);
            }
        }, () -> {
            for (int i = 0; i < 100_000; i++) {
                timing.answered(i % 3 == 0 ? Opcode.READ_PAGES_OK : Opcode.STATS_OK, 0, i * US);
            }
        });
        // Not one object per answer: 100,000 answers would be megabytes.
        assertThat(allocated).isLessThan(1024);
    }

    /** Bucket counts with one request in each bucket named (a bucket named twice counts two). */
    private static long[] counts(int... buckets) {
        long[] out = new long[LatencyHistogram.upperBoundsSeconds().length];
        for (int b : buckets) {
            out[b]++;
        }
        return out;
    }
}
