package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.Opcode;

/**
 * Where every transport records a request's round trip, so a TCP and an RDMA connection to a donor feed the same
 * series: the transport's {@link WireCounters} (replies and their summed round trips) and the donor's
 * {@link DonorLatency} by operation. One per connection, made when it opens; recording allocates nothing. The
 * transport decides what a round trip spans: a TCP request from its frame's write to its reply, an RDMA page
 * request from its first work request posted to its last completion, an RDMA control request from its SEND to its
 * reply.
 */
public final class RequestTiming {
    private final WireCounters wire;
    private final DonorLatency latency;

    public RequestTiming(WireCounters wire, DonorAddress donor) {
        this.wire = wire;
        this.latency = wire.latencyOf(donor.toString());
    }

    /**
     * The request sent at {@code sentNanos} was answered at {@code nowNanos} (success or refusal alike) with a
     * reply of kind {@code reply}: {@code READ_PAGES_OK}, {@code WRITE_PAGES_OK}, else a control request.
     *
     * @return the round trip, in nanoseconds
     */
    public long answered(Opcode reply, long sentNanos, long nowNanos) {
        long roundTrip = nowNanos - sentNanos;
        wire.replied(roundTrip);
        latency.record(reply, roundTrip);
        return roundTrip;
    }
}
