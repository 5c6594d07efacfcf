package dev.valet.client.dashboard;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.EngineStats;
import dev.valet.client.engine.SlabEntry;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorLatency;
import dev.valet.common.metrics.LatencyHistogram;
import dev.valet.common.protocol.DonorStats;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The client daemon's dashboard document: its donors with this client's share of each, where every slab's copies
 * live, and, sampled once a second on a thread of its own, throughput, latency and events (a donor suspected,
 * dead or back, re-replication done, slabs migrated away from an evicting donor). Reads the engine's state as
 * {@code valet status} and the metrics do; never on the I/O path.
 */
public final class ClientView implements AutoCloseable {
    private static final long SAMPLE_MS = 1000;

    private final Engine engine;
    private final String title;
    private final long slabBytes;
    private final RecentEvents events = new RecentEvents();
    private final ScheduledExecutorService sampler;
    private final Map<RemoteDonor, RemoteDonor.State> lastStates = new HashMap<>();
    private long lastNanos = System.nanoTime();
    private long lastWritten;
    private long lastRead;
    private long[] lastReadBuckets = new long[LatencyHistogram.upperBoundsSeconds().length];
    private long[] lastWriteBuckets = new long[LatencyHistogram.upperBoundsSeconds().length];
    private EngineStats lastStats;
    private volatile DashboardState.Io io = DashboardState.Io.NONE;

    private ClientView(Engine engine, String identity, long slabBytes) {
        this.engine = engine;
        this.title = "valet client '" + identity + "'";
        this.slabBytes = slabBytes;
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "valet-dashboard-sampler");
            t.setDaemon(true);
            return t;
        });
    }

    /** A view of {@code engine}, sampling once a second until closed. */
    public static ClientView start(Engine engine, String identity, long slabBytes) {
        ClientView view = new ClientView(engine, identity, slabBytes);
        view.sample();
        view.sampler.scheduleAtFixedRate(view::sample, SAMPLE_MS, SAMPLE_MS, TimeUnit.MILLISECONDS);
        return view;
    }

    /** The document as of now. */
    public DashboardState state() {
        Map<RemoteDonor, Integer> mine = new HashMap<>();
        List<DashboardState.Slab> slabs = new ArrayList<>();
        int numReplica = engine.replicasWanted();
        for (SlabEntry s : engine.slabMap().touched()) {
            List<RemoteDonor> copies = s.replicas();
            List<RemoteDonor> suspended = s.suspended();
            if (copies.isEmpty() && suspended.isEmpty()) {
                continue;
            }
            copies.forEach(d -> mine.merge(d, 1, Integer::sum));
            suspended.forEach(d -> mine.merge(d, 1, Integer::sum));
            slabs.add(new DashboardState.Slab(s.id(), names(copies), names(suspended), copies.size() < numReplica));
        }
        List<DashboardState.Donor> donors = new ArrayList<>();
        for (RemoteDonor d : engine.donors()) {
            DonorStats s = d.stats();
            String state = d.state().name().toLowerCase(Locale.ROOT);
            String reason = d.isLive() ? null : OneLineReason.of(d.lastProblem());
            long mineBytes = (long) mine.getOrDefault(d, 0) * slabBytes;
            if (s == null) {
                donors.add(new DashboardState.Donor(d.address().toString(), state, reason, 0, 0, 0, 0, 0, 0,
                        d.latencyNanos() / 1000, mineBytes, null));
            } else {
                donors.add(new DashboardState.Donor(d.address().toString(), state, reason, s.lendLimitBytes(),
                        s.lentBytes(), s.offeredBytes(), s.freeMemoryBytes(), s.slabCount(), s.clientCount(),
                        d.latencyNanos() / 1000, mineBytes, null));
            }
        }
        return new DashboardState("client", title, Instant.now().toString(), donors, slabs, io, events.list());
    }

    /** The control socket's answer: {@link #state()} and the engine's counters. */
    public ClientStatus status() {
        return new ClientStatus(state(), engine.stats(), engine.repairQueued(), engine.replicasWanted());
    }

    private static List<String> names(List<RemoteDonor> donors) {
        List<String> out = new ArrayList<>(donors.size());
        donors.forEach(d -> out.add(d.address().toString()));
        return out;
    }

    /** Once a second: rates and percentiles over the last interval, and events from what changed. */
    private synchronized void sample() {
        long now = System.nanoTime();
        double seconds = Math.max(1e-3, (now - lastNanos) / 1e9);
        long written = engine.pagesWritten();
        long read = engine.pagesRead();
        long[] readBuckets = new long[lastReadBuckets.length];
        long[] writeBuckets = new long[lastWriteBuckets.length];
        for (DonorLatency l : engine.wire().latencies().values()) {
            add(readBuckets, l.reads().bucketCounts());
            add(writeBuckets, l.writes().bucketCounts());
        }
        io = new DashboardState.Io((written - lastWritten) / seconds, (read - lastRead) / seconds,
                millis(LatencyHistogram.quantileUpperBoundSeconds(minus(writeBuckets, lastWriteBuckets), 0.99)),
                millis(LatencyHistogram.quantileUpperBoundSeconds(minus(readBuckets, lastReadBuckets), 0.99)),
                written, read);
        lastNanos = now;
        lastWritten = written;
        lastRead = read;
        lastReadBuckets = readBuckets;
        lastWriteBuckets = writeBuckets;
        noteEvents();
    }

    private void noteEvents() {
        for (RemoteDonor d : engine.donors()) {
            RemoteDonor.State state = d.state();
            RemoteDonor.State before = lastStates.put(d, state);
            if (before == null || before == state) {
                continue;
            }
            switch (state) {
                case DEAD -> events.add("donor " + d.address() + " died" + (d.lastProblem() != null
                        ? ": " + OneLineReason.of(d.lastProblem()) : ""));
                case SUSPECTED -> events.add("donor " + d.address() + " suspected (silent); its copies are kept");
                case LIVE -> events.add("donor " + d.address() + " live" + (before == RemoteDonor.State.CONNECTING
                        ? "" : " again"));
                default -> events.add("donor " + d.address() + " " + state.name().toLowerCase(Locale.ROOT));
            }
        }
        EngineStats s = engine.stats();
        EngineStats b = lastStats;
        lastStats = s;
        if (b == null) {
            return;
        }
        if (s.slabsRepaired() > b.slabsRepaired() && s.fullyReplicated()) {
            events.add("re-replication done: " + s.slabsMapped() + " slabs have all their copies ("
                    + s.slabsRepaired() + " copies made so far)");
        } else if (s.slabsDegraded() > b.slabsDegraded()) {
            events.add(s.slabsDegraded() + " slabs degraded: re-replicating");
        }
        if (s.slabsMigrated() > b.slabsMigrated()) {
            events.add("eviction: " + (s.slabsMigrated() - b.slabsMigrated()) + " slabs moved off an evicting donor");
        }
        if (s.evictionsDeclined() > b.evictionsDeclined()) {
            events.add("eviction declined " + (s.evictionsDeclined() - b.evictionsDeclined())
                    + " times: nowhere to put the slab");
        }
        if (s.heldFailed() > b.heldFailed()) {
            events.add((s.heldFailed() - b.heldFailed()) + " held requests failed (device.holdTimeout)");
        }
    }

    private static void add(long[] into, long[] counts) {
        for (int i = 0; i < into.length; i++) {
            into[i] += counts[i];
        }
    }

    private static long[] minus(long[] a, long[] b) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Math.max(0, a[i] - b[i]);
        }
        return out;
    }

    private static double millis(double seconds) {
        return Double.isInfinite(seconds) ? -1 : seconds * 1000;
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
