package dev.valet.client.engine.donors;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.DonorTransport;
import dev.valet.common.config.FailoverConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.EvictReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The donors of portal.list and whether each is alive. Every {@code heartbeatInterval} each live donor gets a
 * HEARTBEAT (round-trip time) and a STATS (free memory, gradient, load); a donor is dead when its connection drops
 * or it has not answered for {@code donorTimeout}. A dead donor is reconnected on each tick; when it answers again
 * it is re-admitted with fresh state: the {@link Listener} first clears whatever it held (its copies were dropped
 * when it died, so anything left there is stale), then it becomes a placement candidate like a new donor.
 */
public final class DonorPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DonorPool.class);

    /** What the engine does when donors die and come back. */
    public interface Listener {
        /** The donor is dead: drop its copies. Called once per death, on the pool's thread. */
        void donorLost(RemoteDonor donor, String why);

        /** The donor answers again; clear what it holds. It becomes live when the returned future completes. */
        CompletableFuture<Void> beforeAdmit(RemoteDonor donor, DonorConnection connection);

        /** The donor evicts a slab (its host needs the memory): move it, free it there, then answer. */
        CompletableFuture<EvictReply> evict(RemoteDonor donor, long slabId, long deadlineMillis);
    }

    private final List<RemoteDonor> donors = new ArrayList<>();
    private final String identity;
    private final DonorTransport transport;
    private final FailoverConfig failover;
    private final Listener listener;
    private final ScheduledExecutorService ticker;

    public DonorPool(List<DonorAddress> addresses, String identity, DonorTransport transport, FailoverConfig failover,
                     Listener listener) {
        for (DonorAddress a : addresses) {
            donors.add(new RemoteDonor(a));
        }
        this.identity = identity;
        this.transport = transport;
        this.failover = failover;
        this.listener = listener;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "valet-donor-health");
            t.setDaemon(true);
            return t;
        });
    }

    /** Connects to every donor (waiting for all attempts to end), then starts the health ticks. */
    public void start() {
        List<CompletableFuture<Void>> first = new ArrayList<>();
        for (RemoteDonor d : donors) {
            first.add(connect(d, true));
        }
        CompletableFuture.allOf(first.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        long interval = failover.heartbeatInterval().toNanos();
        ticker.scheduleWithFixedDelay(this::tick, interval, interval, TimeUnit.NANOSECONDS);
        LOG.info("{} of {} donors live", live().size(), donors.size());
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

    private CompletableFuture<Void> connect(RemoteDonor d, boolean firstTime) {
        // A donor becomes live only with its first STATS in hand: placement ranks by it.
        return transport.connect(d.address(), identity).thenCompose(c -> {
            c.onDonorRequests((slabId, deadline) -> listener.evict(d, slabId, deadline));
            return listener.beforeAdmit(d, c).thenCompose(v -> c.heartbeat().thenCombine(c.stats(), (rtt, stats) -> {
                    d.heard(System.nanoTime(), rtt, stats);
                    d.admitted(c, System.nanoTime());
                    c.closed().thenRun(() -> ticker.execute(() -> lost(d, "connection closed")));
                    LOG.info("donor {} {} (instance {})", d, firstTime ? "live" : "re-admitted with fresh state",
                            Long.toHexString(d.instanceId()));
                    return (Void) null;
                }));
        }).whenComplete((ok, err) -> {
                    if (err != null) {
                        d.connectFailed();
                        if (firstTime) {
                            LOG.warn("donor {} unreachable: {}", d, rootMessage(err));
                        } else {
                            LOG.debug("donor {} still unreachable: {}", d, rootMessage(err));
                        }
                    }
                });
    }

    private void tick() {
        long now = System.nanoTime();
        for (RemoteDonor d : donors) {
            switch (d.state()) {
                case LIVE -> {
                    if (now - d.lastHeardNanos() > failover.donorTimeout().toNanos()) {
                        lost(d, "no answer for " + (now - d.lastHeardNanos()) / 1_000_000 + " ms");
                    } else {
                        pollNow(d);
                    }
                }
                case DEAD -> {
                    if (d.startConnecting()) {
                        connect(d, false);
                    }
                }
                case CONNECTING -> { }
            }
        }
    }

    /** Sends a HEARTBEAT and a STATS; their answers refresh the donor's signals and its last-heard time. */
    private void pollNow(RemoteDonor d) {
        DonorConnection c = d.connection();
        if (c == null) {
            return;
        }
        c.heartbeat().thenCombine(c.stats(), (rtt, stats) -> {
            d.heard(System.nanoTime(), rtt, stats);
            return null;
        }).exceptionally(e -> {
            if (rootCause(e) instanceof DonorUnavailableException) {
                LOG.debug("donor {}: {}", d, rootMessage(e));
            }
            return null;
        });
    }

    /** Declares a donor dead (once), closes its connection and tells the listener. */
    public void lost(RemoteDonor d, String why) {
        if (!d.markDead()) {
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
        while (e.getCause() != null && (e instanceof java.util.concurrent.CompletionException
                || e instanceof java.util.concurrent.ExecutionException)) {
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
            d.markDead();
            DonorConnection c = d.connection();
            if (c != null) {
                c.close();
            }
        }
    }
}
