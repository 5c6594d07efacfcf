package dev.valet.cli;

import dev.valet.client.dashboard.DashboardState;
import dev.valet.client.dashboard.RecentEvents;
import dev.valet.client.transport.DonorTransport;
import dev.valet.common.metrics.MetricFamilies;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code valet dashboard}'s document: every donor of portal.list asked as {@code valet status} asks
 * ({@link DonorSurvey}), every {@code interval} on a thread of its own, with events when a donor goes down or comes
 * back or starts evicting. Each donor's row carries what each client identity holds there (its CLIENT_SHARES).
 */
final class ClusterView implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

    private final DonorTransport transport;
    private final List<DonorAddress> donors;
    private final String identity;
    private final String title;
    private final Duration connectTimeout;
    private final RecentEvents events = new RecentEvents();
    private final Map<String, DonorSurvey.Report> last = new HashMap<>();
    private final ScheduledExecutorService surveyor;
    private volatile List<DonorSurvey.Report> reports = List.of();

    private ClusterView(DonorTransport transport, List<DonorAddress> donors, String identity, String title,
                        Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
        this.transport = transport;
        this.donors = donors;
        this.identity = identity;
        this.title = title;
        this.surveyor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "valet-dashboard-survey");
            t.setDaemon(true);
            return t;
        });
    }

    /** Asks the donors once now, then every {@code interval} until closed. */
    static ClusterView start(DonorTransport transport, List<DonorAddress> donors, String identity, String title,
                             Duration interval, Duration connectTimeout) {
        ClusterView view = new ClusterView(transport, donors, identity, title, connectTimeout);
        view.survey();
        view.surveyor.scheduleWithFixedDelay(view::survey, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        return view;
    }

    private void survey() {
        try {
            List<DonorSurvey.Report> now = DonorSurvey.take(transport, donors, identity, connectTimeout);
            for (DonorSurvey.Report r : now) {
                DonorSurvey.Report before = last.put(r.donor(), r);
                if (before == null) {
                    if (!r.up()) {
                        events.add("donor " + r.donor() + " down: " + r.reason());
                    }
                } else if (before.up() && !r.up()) {
                    events.add("donor " + r.donor() + " down: " + r.reason());
                } else if (!before.up() && r.up()) {
                    events.add("donor " + r.donor() + " up again");
                } else if (r.up() && before.up()
                        && r.stats().evictionsRequested() > before.stats().evictionsRequested()) {
                    events.add("donor " + r.donor() + " evicting: asked its clients to move "
                            + (r.stats().evictionsRequested() - before.stats().evictionsRequested()) + " slabs");
                }
            }
            reports = now;
        } catch (RuntimeException e) {
            LOG.warn("asking the donors failed: {}", e.toString());
        }
    }

    DashboardState state() {
        List<DashboardState.Donor> rows = new ArrayList<>();
        double pageOps = 0;
        double maxRttMillis = 0;
        for (DonorSurvey.Report r : reports) {
            DonorStats s = r.stats();
            if (s == null) {
                rows.add(new DashboardState.Donor(r.donor(), "down", r.reason(), 0, 0, 0, 0, 0, 0, 0, null,
                        null));
                continue;
            }
            pageOps += s.pageOpsPerSecond();
            maxRttMillis = Math.max(maxRttMillis, r.rttMicros() / 1000.0);
            rows.add(new DashboardState.Donor(r.donor(), "live", null, s.lendLimitBytes(), s.lentBytes(),
                    s.offeredBytes(), s.freeMemoryBytes(), s.slabCount(), r.otherClients(), r.rttMicros(), null,
                    r.shares()));
        }
        DashboardState.Io io = new DashboardState.Io(pageOps, 0, maxRttMillis, 0, 0, 0);
        return new DashboardState("cluster", title, Instant.now().toString(), rows, null, io, events.list());
    }

    /** The cluster's series at {@code /metrics}: each donor's state and memory as last asked. */
    void collect(MetricFamilies f) {
        for (DonorSurvey.Report r : reports) {
            f.gauge("valet_cluster_donor_up", "1 if the donor answered the last survey.", r.up() ? 1 : 0,
                    "donor", r.donor());
            if (r.stats() != null) {
                f.gauge("valet_cluster_donor_lent_bytes", "What each donor lends now.", r.stats().lentBytes(),
                        "donor", r.donor());
                f.gauge("valet_cluster_donor_host_free_bytes", "Each donor's host free memory.",
                        r.stats().freeMemoryBytes(), "donor", r.donor());
                f.gauge("valet_cluster_donor_lend_limit_bytes", "Each donor's lend limit.",
                        r.stats().lendLimitBytes(), "donor", r.donor());
            }
            if (r.shares() != null) {
                for (ClientShares.Share share : r.shares().shares()) {
                    f.gauge("valet_cluster_donor_client_lent_bytes", "What each donor lends each client (its 32"
                            + " largest).", share.bytes(), "donor", r.donor(), "client", share.identity());
                }
            }
        }
    }

    @Override
    public void close() {
        surveyor.shutdownNow();
        try {
            surveyor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
