package dev.valet.client.transport;

import dev.valet.common.metrics.LatencyHistogram;
import dev.valet.common.protocol.Opcode;

/**
 * One donor's request round trips, by operation: READ_PAGES, WRITE_PAGES, and every other request (allocation,
 * heartbeat, stats...). Made once per donor address when its first connection opens; the reply path records into
 * preallocated buckets ({@link LatencyHistogram}), so nothing is allocated per request.
 */
public final class DonorLatency {
    private final LatencyHistogram reads = new LatencyHistogram();
    private final LatencyHistogram writes = new LatencyHistogram();
    private final LatencyHistogram control = new LatencyHistogram();

    /** A reply of kind {@code reply} came {@code nanos} after its request went out. */
    public void record(Opcode reply, long nanos) {
        if (reply == Opcode.READ_PAGES_OK) {
            reads.record(nanos);
        } else if (reply == Opcode.WRITE_PAGES_OK) {
            writes.record(nanos);
        } else {
            control.record(nanos);
        }
    }

    public LatencyHistogram reads() {
        return reads;
    }

    public LatencyHistogram writes() {
        return writes;
    }

    public LatencyHistogram control() {
        return control;
    }
}
