package dev.valet.donor.metrics;

import dev.valet.common.metrics.MetricFamilies;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.donor.server.Donor;

import java.util.function.Consumer;

/**
 * The donor's series, from what it already keeps for STATS (docs/operations.md, "Metrics"): memory lent, used and
 * free, the free-memory gradient, slabs per client, connections, refusals and evictions. Read at scrape time; the
 * page path only bumps the counters it bumped before.
 */
public final class DonorMetrics implements Consumer<MetricFamilies> {
    private static final long PAGE_BYTES = 4096;

    private final Donor donor;

    public DonorMetrics(Donor donor) {
        this.donor = donor;
    }

    @Override
    public void accept(MetricFamilies f) {
        DonorStats s = donor.stats();
        f.gauge("valet_donor_lend_limit_bytes", "The most this donor lends (memory in donor.yaml).",
                s.lendLimitBytes());
        f.gauge("valet_donor_lent_bytes", "Bytes allocated to clients' slabs (the donor's memory used).",
                s.lentBytes());
        f.gauge("valet_donor_offered_bytes", "Bytes it would still lend now (0 under memory pressure).",
                s.offeredBytes());
        f.gauge("valet_donor_unlent_bytes", "Lend limit less what is lent.",
                Math.max(0, s.lendLimitBytes() - s.lentBytes()));
        f.gauge("valet_donor_host_free_bytes", "The host's MemAvailable, smoothed (EWMA).", s.freeMemoryBytes());
        f.gauge("valet_donor_host_free_gradient_bytes_per_second",
                "How fast the host's free memory changes (negative: shrinking).", s.freeMemoryGradient());
        f.gauge("valet_donor_slabs", "Slabs allocated, all clients.", s.slabCount());
        f.gauge("valet_donor_connections", "Client connections admitted and open.", s.clientCount());
        f.gauge("valet_donor_page_rate_pages_per_second", "Pages read and written in the last sampling interval,"
                + " per second.", s.pageOpsPerSecond());
        f.counter("valet_donor_pages_served", "Pages read and written for clients.", donor.pagesServed());
        f.counter("valet_donor_served_bytes", "Bytes of pages read and written for clients.",
                donor.pagesServed() * PAGE_BYTES);
        f.counter("valet_donor_refused_connections", "Connections refused (bad or missing handshake, wrong"
                + " secret, too many clients, malformed frames).", donor.refusedConnections());
        f.counter("valet_donor_auth_failures", "AUTH proofs that did not match the cluster secret.",
                donor.authFailures());
        f.counter("valet_donor_evictions_requested", "EVICTs sent to clients.", s.evictionsRequested());
        f.counter("valet_donor_evictions_completed", "Evicted slabs their owner moved away and freed.",
                s.evictionsCompleted());
        f.counter("valet_donor_evictions_timed_out", "Victims kept: the owner did not confirm in time.",
                s.evictionsTimedOut());
        f.counter("valet_donor_evictions_declined", "Victims kept: the owner had nowhere to put them.",
                s.evictionsDeclined());
        f.counter("valet_donor_unused_slabs_reclaimed", "Slabs with no written page freed at once under pressure.",
                s.unusedSlabsReclaimed());
        for (ClientShares.Share share : donor.store().holdings()) {
            f.gauge("valet_donor_client_slabs", "Slabs held for each client.", share.slabs(), "client",
                    share.identity());
            f.gauge("valet_donor_client_lent_bytes", "Bytes lent to each client.", share.bytes(), "client",
                    share.identity());
        }
    }
}
