package dev.valet.client.engine.donors;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.FailoverConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.EvictReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The donors of portal.list and how sure the engine is that each is alive. Every {@code heartbeatInterval} each
 * donor with a connection gets a HEARTBEAT (round-trip time) and a STATS (free memory, gradient, load).
 *
 * <p>Silence is suspicion, not death: a donor silent for {@code donorTimeout}, or whose connection dropped, is
 * SUSPECTED. Its copies are kept (the {@link Listener} stops writing and counting them) and on every tick it is
 * polled on its connection and a new connection is tried beside it. It is confirmed DEAD only on evidence: reconnecting
 * is refused (nothing listens there), a new instance answers (a restart: its slabs are gone), or it stays silent for
 * {@code deadAfter}. A suspected donor that answers again as the same instance is LIVE again, and the listener resyncs
 * its copies. The client's own stalls (a tick that comes late: GC, scheduling, a frozen VM) are not counted as any
 * donor's silence.
 */
public final class DonorPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DonorPool.class);
    /** A handshake that timed out is tried again with twice the time, up to this many times the configured one. */
    private static final int MAX_HANDSHAKE_GROWTH = 16;

    /** What the engine does when donors are suspected, come back or die. Called on the pool's thread. */
    public interface Listener {
        /** The donor is silent or disconnected: keep its copies, but stop writing and counting them. */
        void donorSuspected(RemoteDonor donor, String why);

        /** A suspected donor answers again as the same instance: bring its copies back up to date. */
        void donorReturned(RemoteDonor donor);

        /** The donor is confirmed dead: drop its copies. Called once per death. */
        void donorLost(RemoteDonor donor, String why);

        /**
         * A donor is admitted afresh (first contact, or a new instance): clear what it holds of ours. It becomes
         * live when the returned future completes.
         */
        CompletableFuture<Void> beforeAdmit(RemoteDonor donor, DonorConnection connection);

        /** The donor evicts a slab (its host needs the memory): move it, free it there, then answer. */
        CompletableFuture<EvictReply> evict(RemoteDonor donor, long slabId, long deadlineMillis);
    }

    private final List<RemoteDonor> donors = new ArrayList<>();
    private final String identity;
    private final DonorTransport transport;
    private final FailoverConfig failover;
    private final Duration connectTimeout;
    private final Listener listener;
    private final ScheduledExecutorService ticker;
    private long lastTickNanos;

    public DonorPool(List<DonorAddress> addresses, ClientConfig config, DonorTransport transport, Listener listener) {
        this.connectTimeout = config.connectTimeout();
        for (DonorAddress a : addresses) {
            donors.add(new RemoteDonor(a, connectTimeout));
        }
        this.identity = config.identity();
        this.transport = transport;
        this.failover = config.failover();
        this.listener = listener;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "valet-donor-health");
            t.setDaemon(true);
            return t;
        });
    }

    /** Connects to every donor (waiting for all first attempts to end), then starts the health ticks. */
    public void start() {
        List<CompletableFuture<Void>> first = new ArrayList<>();
        for (RemoteDonor d : donors) {
            if (d.startConnecting()) {
                first.add(connect(d));
            }
        }
        CompletableFuture.allOf(first.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        long interval = failover.heartbeatInterval().toNanos();
        lastTickNanos = System.nanoTime();
        ticker.scheduleWithFixedDelay(this::tick, interval, interval, TimeUnit.NANOSECONDS);
        LOG.info("{} of {} donors live", live().size(), donors.size());
    }

    /**
     * Waits until at least {@code needed} donors are live, logging who is missing and why every 10 seconds.
     *
     * @throws IOException after {@code timeout}, naming every donor that is not live and its last problem
     */
    public void awaitLive(int needed, Duration timeout) throws IOException, InterruptedException {
        if (needed > donors.size()) {
            throw new IOException("placement.numReplica is " + needed + " but portal.list names only "
                    + donors.size() + " donor" + (donors.size() == 1 ? "" : "s"));
        }
        long start = System.nanoTime();
        long nextReport = start + TimeUnit.SECONDS.toNanos(10);
        while (live().size() < needed) {
            long now = System.nanoTime();
            if (now - start > timeout.toNanos()) {
                throw new IOException("only " + live().size() + " of the " + needed + " live donors needed to place "
                        + needed + " copies after " + timeout.toSeconds() + " s (failover.readyTimeout): "
                        + missing());
            }
            if (now > nextReport) {
                LOG.info("waiting for donors: {} of {} needed are live; {}", live().size(), needed, missing());
                nextReport = now + TimeUnit.SECONDS.toNanos(10);
            }
            Thread.sleep(50);
        }
    }

    /**
     * Waits until every donor has answered or refused: live, or its last attempt failed otherwise than by a timeout.
     * A donor that is only slow to shake hands may hold what the others lack; after {@code timeout} the wait ends
     * with a warning naming it.
     */
    public void awaitAnswered(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (donors.stream().anyMatch(d -> !d.isLive() && (d.lastAttemptTimedOut() || neverTried(d)))) {
            if (System.nanoTime() > deadline) {
                LOG.warn("going on without the donors still slow to answer after {} s: {}", timeout.toSeconds(),
                        missing());
                return;
            }
            Thread.sleep(50);
        }
    }

    private static boolean neverTried(RemoteDonor d) {
        return d.state() == RemoteDonor.State.CONNECTING && d.lastProblem().equals("not contacted yet");
    }

    /** Each donor that is not live, with why. */
    public String missing() {
        StringBuilder sb = new StringBuilder();
        for (RemoteDonor d : donors) {
            if (!d.isLive()) {
                sb.append(sb.length() > 0 ? "; " : "").append(d).append(' ').append(d.state().name().toLowerCase())
                        .append(": ").append(d.lastProblem());
            }
        }
        return sb.length() == 0 ? "none missing" : sb.toString();
    }

    public List<RemoteDonor> all() {
        return List.copyOf(donors);
    }

    public List<RemoteDonor> live() {
        List<RemoteDonor> live = new ArrayList<>();
        for (RemoteDonor d : donors) {
            if (d.isLive()) {
                live.add(d);
            }
        }
        return live;
    }

    /** A first contact, a reconnection of a suspected donor, or a fresh start after death. */
    private CompletableFuture<Void> connect(RemoteDonor d) {
        Duration timeout = d.handshakeTimeout();
        return transport.connect(d.address(), identity, timeout).thenCompose(c -> {
            d.handshakeTimeout(connectTimeout);
            return switch (d.state()) {
                case SUSPECTED -> reattach(d, c);
                case LIVE -> {
                    // It answered on its old connection meanwhile: that one stays. Never admit it afresh: that
                    // would free the slabs it holds.
                    c.close();
                    yield CompletableFuture.<Void>completedFuture(null);
                }
                case CONNECTING, DEAD -> admit(d, c);
            };
        }).whenComplete((ok, err) -> {
            if (err != null) {
                ticker.execute(() -> connectFailed(d, err, timeout));
            }
        });
    }

    /** A suspected donor's new connection: the same instance resumes with its copies, a new one is a restart. */
    private CompletableFuture<Void> reattach(RemoteDonor d, DonorConnection c) {
        if (c.hello().donorInstanceId() != d.instanceId()) {
            CompletableFuture<Void> admitted = new CompletableFuture<>();
            ticker.execute(() -> {
                lost(d, "restarted: instance " + Long.toHexString(c.hello().donorInstanceId()) + " answers where "
                        + Long.toHexString(d.instanceId()) + " was; its copies are gone");
                admit(d, c).whenComplete((ok, err) -> {
                    if (err != null) {
                        admitted.completeExceptionally(err);
                    } else {
                        admitted.complete(null);
                    }
                });
            });
            return admitted;
        }
        c.onDonorRequests((slabId, deadline) -> listener.evict(d, slabId, deadline));
        ticker.execute(() -> {
            DonorConnection old = d.connection();
            if (d.resume(c, System.nanoTime())) {
                if (old != null && old != c) {
                    old.close(); // silent or half-open: the new connection replaces it
                }
                watchClose(d, c);
                LOG.info("donor {} reconnected as the same instance {}: its copies come back", d,
                        Long.toHexString(d.instanceId()));
                listener.donorReturned(d);
            } else {
                c.close();
            }
        });
        return CompletableFuture.completedFuture(null);
    }

    /** A donor becomes live with fresh state; with its first STATS in hand, since placement ranks by it. */
    private CompletableFuture<Void> admit(RemoteDonor d, DonorConnection c) {
        boolean firstTime = d.instanceId() == 0;
        c.onDonorRequests((slabId, deadline) -> listener.evict(d, slabId, deadline));
        return listener.beforeAdmit(d, c).thenCompose(v -> c.heartbeat().thenCombine(c.stats(), (rtt, stats) -> {
            d.heard(System.nanoTime(), rtt, stats);
            d.admitted(c, System.nanoTime());
            watchClose(d, c);
            LOG.info("donor {} {} (instance {})", d, firstTime ? "live" : "admitted with fresh state",
                    Long.toHexString(d.instanceId()));
            return (Void) null;
        })).whenComplete((ok, err) -> {
            if (err != null) {
                c.close();
            }
        });
    }

    private void watchClose(RemoteDonor d, DonorConnection c) {
        c.closed().thenRun(() -> ticker.execute(() -> {
            if (d.connection() == c) {
                suspect(d, "connection closed");
            }
        }));
    }

    private void connectFailed(RemoteDonor d, Throwable err, Duration timeout) {
        Throwable root = rootCause(err);
        String why = rootMessage(err);
        boolean refused = root.getCause() instanceof ConnectException || root instanceof ConnectException;
        boolean timedOut = DonorUnavailableException.isTimeout(err);
        if (timedOut) {
            Duration next = timeout.multipliedBy(2);
            Duration cap = connectTimeout.multipliedBy(MAX_HANDSHAKE_GROWTH);
            d.handshakeTimeout(next.compareTo(cap) > 0 ? cap : next);
            why += "; next attempt waits " + d.handshakeTimeout().toMillis() + " ms";
        }
        if (d.state() == RemoteDonor.State.SUSPECTED) {
            d.connectFailed(why, timedOut);
            if (refused) {
                lost(d, "reconnecting was refused: " + why);
            } else {
                LOG.debug("donor {} still unreachable: {}", d, why);
            }
            return;
        }
        boolean firstTime = d.instanceId() == 0 && !d.lastProblem().startsWith("unreachable");
        d.connectFailed("unreachable: " + why, timedOut);
        if (firstTime) {
            LOG.warn("donor {} unreachable: {}", d, why);
        } else {
            LOG.debug("donor {} still unreachable: {}", d, why);
        }
    }

    private void tick() {
        try {
            long now = System.nanoTime();
            excuseOwnStall(now);
            for (RemoteDonor d : donors) {
                tick(d, now);
            }
        } catch (RuntimeException e) {
            LOG.warn("donor health tick failed: {}", e.toString(), e);
        }
    }

    /** A tick that comes late means this process stood still: that time is nobody's silence. */
    private void excuseOwnStall(long now) {
        long interval = failover.heartbeatInterval().toNanos();
        long late = now - lastTickNanos - interval;
        lastTickNanos = now;
        if (late > interval && late > TimeUnit.MILLISECONDS.toNanos(200)) {
            for (RemoteDonor d : donors) {
                d.excuse(late);
            }
            LOG.info("this client stood still for {} ms (GC, scheduling or a frozen machine): not counted as donor"
                    + " silence", late / 1_000_000);
        }
    }

    private void tick(RemoteDonor d, long now) {
        long silentNanos = now - d.lastHeardNanos();
        switch (d.state()) {
            case LIVE -> {
                if (silentNanos > failover.donorTimeout().toNanos()) {
                    suspect(d, "no answer for " + silentNanos / 1_000_000 + " ms");
                } else {
                    pollNow(d);
                }
            }
            case SUSPECTED -> {
                if (silentNanos > failover.deadAfter().toNanos()) {
                    lost(d, "silent for " + silentNanos / 1_000_000 + " ms (failover.deadAfter)");
                    return;
                }
                DonorConnection c = d.connection();
                if (c != null && c.isOpen()) {
                    pollNow(d);
                }
                // Also a new connection: a refusal is evidence of death that a silent old connection (a dead peer
                // over RDMA, a half-open TCP) never gives, and a handshake answered proves the donor alive.
                if (d.startConnecting()) {
                    connect(d);
                }
            }
            case DEAD -> {
                if (d.startConnecting()) {
                    connect(d);
                }
            }
            case CONNECTING -> { }
        }
    }

    /** Sends a HEARTBEAT and a STATS; their answers refresh the donor's signals and may end a suspicion. */
    private void pollNow(RemoteDonor d) {
        DonorConnection c = d.connection();
        if (c == null) {
            return;
        }
        c.heartbeat().thenCombine(c.stats(), (rtt, stats) -> {
            d.heard(System.nanoTime(), rtt, stats);
            if (d.state() == RemoteDonor.State.SUSPECTED) {
                ticker.execute(() -> {
                    if (d.connection() == c && c.isOpen() && d.resume(c, System.nanoTime())) {
                        LOG.info("donor {} answers again (same instance {}): its copies come back", d,
                                Long.toHexString(d.instanceId()));
                        listener.donorReturned(d);
                    }
                });
            }
            return null;
        }).exceptionally(e -> {
            if (rootCause(e) instanceof DonorUnavailableException) {
                LOG.debug("donor {}: {}", d, rootMessage(e));
            }
            return null;
        });
    }

    /** LIVE to SUSPECTED: its copies are kept but no longer written or counted. */
    private void suspect(RemoteDonor d, String why) {
        if (d.suspect(why)) {
            LOG.warn("donor {} is suspected: {}; its copies are kept until it answers again or is confirmed dead"
                    + " (failover.deadAfter {} s)", d, why, failover.deadAfter().toSeconds());
            listener.donorSuspected(d, why);
            DonorConnection c = d.connection();
            if (c != null) {
                // Writes waiting on it would wait out their whole timeout: the other copies answer for them now.
                c.abandonPending("suspected: " + why);
            }
        }
    }

    /** Confirms a donor dead (once), closes its connection and tells the listener. */
    public void lost(RemoteDonor d, String why) {
        if (!d.markDead(why)) {
            return;
        }
        LOG.warn("donor {} is dead: {}", d, why);
        DonorConnection c = d.connection();
        if (c != null) {
            c.close();
        }
        listener.donorLost(d, why);
    }

    private static Throwable rootCause(Throwable e) {
        while (e.getCause() != null && (e instanceof CompletionException || e instanceof ExecutionException)) {
            e = e.getCause();
        }
        return e;
    }

    static String rootMessage(Throwable e) {
        Throwable r = rootCause(e);
        return r.getMessage() != null ? r.getMessage() : r.toString();
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        for (RemoteDonor d : donors) {
            d.markDead("closed");
            DonorConnection c = d.connection();
            if (c != null) {
                c.close();
            }
        }
    }
}
