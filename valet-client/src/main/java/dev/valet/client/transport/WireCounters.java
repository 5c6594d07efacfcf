package dev.valet.client.transport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a transport put on the wire: request frames and the flushes (socket writes, or RDMA doorbells) that carried
 * them, and the replies with their round trips. {@code frames / flushes} is how many requests one wake-up of the
 * link serves: 1 when every request goes out alone, more when requests ready together share a flush;
 * {@code roundTripNanos / replies} is the mean time from a request's frame to its reply: the transport and the
 * donor's share of a request's time. Counted without allocating; read by {@code valet bench} (through
 * valet-tools' {@code ThreadCosts}) as {@code frames_per_flush}, and by the client's stage line. Per donor, the
 * round trips by operation ({@link DonorLatency}), for the Prometheus endpoint and the dashboard.
 */
public final class WireCounters {
    /** For a transport that does not count. */
    public static final WireCounters NONE = new WireCounters();

    private final AtomicLong frames = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong roundTripNanos = new AtomicLong();
    private final Map<String, DonorLatency> latencies = new ConcurrentHashMap<>();
    private final AtomicLong authFailures = new AtomicLong();

    public void frameWritten() {
        frames.incrementAndGet();
    }

    public void flushed() {
        flushes.incrementAndGet();
    }

    /** A reply came, {@code roundTripNanos} after its request's frame was written. */
    public void replied(long roundTripNanos) {
        replies.incrementAndGet();
        this.roundTripNanos.addAndGet(roundTripNanos);
    }

    public long replies() {
        return replies.get();
    }

    public long roundTripNanos() {
        return roundTripNanos.get();
    }

    public long frames() {
        return frames.get();
    }

    public long flushes() {
        return flushes.get();
    }

    /** A handshake failed authentication (the donor could not prove the secret, or refused ours). */
    public void authFailed() {
        authFailures.incrementAndGet();
    }

    public long authFailures() {
        return authFailures.get();
    }

    /** The round trips to the donor at {@code address}; made at its first connection, then the same object. */
    public DonorLatency latencyOf(String address) {
        return latencies.computeIfAbsent(address, a -> new DonorLatency());
    }

    /** Round trips per donor address, for every donor connected so far. */
    public Map<String, DonorLatency> latencies() {
        return latencies;
    }
}
