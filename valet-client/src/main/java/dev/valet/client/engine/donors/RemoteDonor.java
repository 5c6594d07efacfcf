package dev.valet.client.engine.donors;

import dev.valet.client.engine.placement.DonorSignals;
import dev.valet.client.transport.DonorConnection;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.DonorStats;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One donor of portal.list as the engine sees it: its connection while it is live, what it last reported, the
 * round-trip time measured here, and which slabs were ever placed on it (so stale copies can be freed when it
 * comes back).
 */
public final class RemoteDonor {
    /** Weight of the newest heartbeat round trip in the latency EWMA. */
    private static final double LATENCY_WEIGHT = 0.3;

    public enum State { CONNECTING, LIVE, DEAD }

    private final DonorAddress address;
    private final Set<Long> placedSlabs = ConcurrentHashMap.newKeySet();
    private volatile State state = State.CONNECTING;
    private volatile DonorConnection connection;
    private volatile DonorStats stats;
    private volatile long latencyNanos;
    private volatile long lastHeardNanos;
    private volatile long instanceId;

    RemoteDonor(DonorAddress address) {
        this.address = address;
    }

    public DonorAddress address() {
        return address;
    }

    public State state() {
        return state;
    }

    public boolean isLive() {
        return state == State.LIVE;
    }

    /** The connection while live; may be closed under the caller's feet, which then sees its requests fail. */
    public DonorConnection connection() {
        return connection;
    }

    /** Slab ids the engine has placed on this donor at some time (current copies and stale ones). */
    public Set<Long> placedSlabs() {
        return placedSlabs;
    }

    public long latencyNanos() {
        return latencyNanos;
    }

    public DonorStats stats() {
        return stats;
    }

    /** What placement ranks this donor by. */
    public DonorSignals signals() {
        DonorStats s = stats;
        if (s == null) {
            return new DonorSignals(0, 0, 0, 0, latencyNanos);
        }
        return new DonorSignals(s.freeMemoryBytes(), s.freeMemoryGradient(), s.offeredBytes(), s.pageOpsPerSecond(),
                latencyNanos);
    }

    void admitted(DonorConnection c, long nowNanos) {
        this.connection = c;
        this.instanceId = c.hello().donorInstanceId();
        this.lastHeardNanos = nowNanos;
        this.state = State.LIVE;
    }

    void heard(long nowNanos, long rttNanos, DonorStats s) {
        lastHeardNanos = nowNanos;
        long prev = latencyNanos;
        latencyNanos = prev == 0 ? rttNanos : Math.round(LATENCY_WEIGHT * rttNanos + (1 - LATENCY_WEIGHT) * prev);
        stats = s;
    }

    long lastHeardNanos() {
        return lastHeardNanos;
    }

    long instanceId() {
        return instanceId;
    }

    /** Marks this donor dead; false if it already was not live. */
    synchronized boolean markDead() {
        if (state != State.LIVE) {
            return false;
        }
        state = State.DEAD;
        return true;
    }

    synchronized boolean startConnecting() {
        if (state != State.DEAD) {
            return false;
        }
        state = State.CONNECTING;
        return true;
    }

    synchronized void connectFailed() {
        state = State.DEAD;
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
