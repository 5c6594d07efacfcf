package dev.valet.client.engine.donors;

import dev.valet.client.engine.placement.DonorSignals;
import dev.valet.client.transport.DonorConnection;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.DonorStats;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One donor of portal.list as the engine sees it: its connection, what it last reported, the round-trip time
 * measured here, which slabs were ever placed on it (so stale copies can be freed when a new instance answers), and
 * how sure the engine is that it is alive.
 *
 * <p>States: {@code CONNECTING} (first contact, or a fresh start after death), {@code LIVE}, {@code SUSPECTED}
 * (silent, or its connection dropped: its copies are kept, neither written nor counted, until it answers again as
 * the same instance or is confirmed dead), {@code DEAD} (evidence: reconnecting is refused, a new instance answers,
 * or silence beyond {@code failover.deadAfter}; its copies are dropped).
 */
public final class RemoteDonor {
    /** Weight of the newest heartbeat round trip in the latency EWMA. */
    private static final double LATENCY_WEIGHT = 0.3;

    /** How sure the engine is that the donor is alive (the class comment says what each state means). */
    public enum State { CONNECTING, LIVE, SUSPECTED, DEAD }

    private final DonorAddress address;
    private final Set<Long> placedSlabs = ConcurrentHashMap.newKeySet();
    private volatile State state = State.CONNECTING;
    private volatile DonorConnection connection;
    private volatile DonorStats stats;
    private volatile long latencyNanos;
    /** Atomic, not just volatile: {@link #excuse} adds to it while a reply may be setting it. */
    private final AtomicLong lastHeardNanos = new AtomicLong();
    private volatile long instanceId;
    private volatile boolean reconnecting;
    private volatile Duration handshakeTimeout;
    private volatile String lastProblem = "not contacted yet";
    private volatile boolean lastAttemptTimedOut;

    RemoteDonor(DonorAddress address, Duration handshakeTimeout) {
        this.address = address;
        this.handshakeTimeout = handshakeTimeout;
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

    /** Why the donor is not live, for logs and start-up messages. */
    public String lastProblem() {
        return lastProblem;
    }

    /** Whether its last connection attempt got no answer in time (slow, not refused). */
    boolean lastAttemptTimedOut() {
        return lastAttemptTimedOut;
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

    synchronized void admitted(DonorConnection c, long nowNanos) {
        this.connection = c;
        this.instanceId = c.hello().donorInstanceId();
        this.lastHeardNanos.set(nowNanos);
        this.reconnecting = false;
        this.lastAttemptTimedOut = false;
        this.state = State.LIVE;
    }

    void heard(long nowNanos, long rttNanos, DonorStats s) {
        lastHeardNanos.set(nowNanos);
        long prev = latencyNanos;
        latencyNanos = prev == 0 ? rttNanos : Math.round(LATENCY_WEIGHT * rttNanos + (1 - LATENCY_WEIGHT) * prev);
        stats = s;
    }

    long lastHeardNanos() {
        return lastHeardNanos.get();
    }

    /** The client itself stood still for {@code nanos} (GC, scheduling, a frozen VM): not the donor's silence. */
    void excuse(long nanos) {
        lastHeardNanos.addAndGet(nanos);
    }

    long instanceId() {
        return instanceId;
    }

    Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    void handshakeTimeout(Duration d) {
        handshakeTimeout = d;
    }

    void problem(String why) {
        lastProblem = why;
    }

    /** LIVE to SUSPECTED; false if it was not live. */
    synchronized boolean suspect(String why) {
        if (state != State.LIVE) {
            return false;
        }
        state = State.SUSPECTED;
        lastProblem = why;
        return true;
    }

    /** SUSPECTED to LIVE (it answered as the same instance); false if it was not suspected. */
    synchronized boolean resume(DonorConnection c, long nowNanos) {
        if (state != State.SUSPECTED) {
            return false;
        }
        connection = c;
        lastHeardNanos.set(nowNanos);
        reconnecting = false;
        state = State.LIVE;
        return true;
    }

    /** Confirms this donor dead; false if it already was dead or never came up. */
    synchronized boolean markDead(String why) {
        lastProblem = why; // an attempt under way goes on: its result admits the donor afresh
        if (state != State.LIVE && state != State.SUSPECTED) {
            return false;
        }
        state = State.DEAD;
        return true;
    }

    /** Starts a (re)connection attempt unless one is under way; a dead donor becomes CONNECTING. */
    synchronized boolean startConnecting() {
        if (reconnecting || state == State.LIVE) {
            return false;
        }
        reconnecting = true;
        if (state == State.DEAD) {
            state = State.CONNECTING;
        }
        return true;
    }

    synchronized void connectFailed(String why, boolean timedOut) {
        reconnecting = false;
        lastProblem = why;
        lastAttemptTimedOut = timedOut;
        if (state == State.CONNECTING) {
            state = State.DEAD;
        }
    }

    @Override
    public String toString() {
        return address.toString();
    }
}
