package dev.valet.client.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a transport put on the wire: request frames and the flushes (socket writes, or RDMA doorbells) that carried
 * them. {@code frames / flushes} is how many requests one wake-up of the link serves: 1 when every request goes out
 * alone, more when requests ready together share a flush. Counted without allocating; read by {@code valet bench}
 * (through {@link dev.valet.client.workload.ThreadCosts}) as {@code frames_per_flush}.
 */
public final class WireCounters {
    /** For a transport that does not count. */
    public static final WireCounters NONE = new WireCounters();

    private final AtomicLong frames = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();

    public void frameWritten() {
        frames.incrementAndGet();
    }

    public void flushed() {
        flushes.incrementAndGet();
    }

    public long frames() {
        return frames.get();
    }

    public long flushes() {
        return flushes.get();
    }
}
