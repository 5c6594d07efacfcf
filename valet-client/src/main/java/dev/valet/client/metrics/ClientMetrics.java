package dev.valet.client.metrics;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.EngineStats;
import dev.valet.client.engine.SlabEntry;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.kernel.KernelChannel;
import dev.valet.client.tier.TierStats;
import dev.valet.client.transport.DonorLatency;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.metrics.MetricFamilies;
import dev.valet.common.protocol.DonorStats;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The client's series (docs/operations.md, "Metrics"): pages and bytes in and out, round-trip histograms per
 * donor and operation, donors by state, slabs mapped and degraded, re-replication and migration, held requests,
 * and, when the daemon serves /dev/valetN, the kernel channel's and the host tier's counters. Everything is read
 * when Prometheus scrapes; the I/O path only bumps counters and buckets it owns (no allocation, no lock).
 */
public final class ClientMetrics implements Consumer<MetricFamilies> {
    private static final long PAGE_BYTES = 4096;

    private final Engine engine;
    private final Supplier<KernelChannel.Stats> channel;
    private final Supplier<TierStats> tier;

    /**
     * @param channel the kernel channel's counters, or null when the daemon serves no /dev/valetN
     * @param tier    the host tier's counters, or null (or a supplier of null) when there is no tier
     */
    public ClientMetrics(Engine engine, Supplier<KernelChannel.Stats> channel, Supplier<TierStats> tier) {
        this.engine = engine;
        this.channel = channel;
        this.tier = tier;
    }

    @Override
    public void accept(MetricFamilies f) {
        io(f);
        health(f);
        donors(f);
        if (channel != null) {
            kernel(f, channel.get());
        }
        TierStats t = tier != null ? tier.get() : null;
        if (t != null) {
            tier(f, t);
        }
    }

    private void io(MetricFamilies f) {
        f.counter("valet_client_write_pages", "Pages written (swapped out) through the engine.",
                engine.pagesWritten());
        f.counter("valet_client_read_pages", "Pages read (swapped in) through the engine.", engine.pagesRead());
        f.counter("valet_client_write_bytes", "Bytes written through the engine.", engine.pagesWritten() * PAGE_BYTES);
        f.counter("valet_client_read_bytes", "Bytes read through the engine.", engine.pagesRead() * PAGE_BYTES);
        transport(f, engine.wire());
    }

    /** The transport's series: frames, flushes, and round trips per donor and operation. */
    public static void transport(MetricFamilies f, WireCounters wire) {
        f.counter("valet_client_frames", "Request frames sent to donors.", wire.frames());
        f.counter("valet_client_flushes", "Socket writes (or RDMA doorbells) that carried them.", wire.flushes());
        f.counter("valet_client_auth_failures", "Handshakes that failed authentication: a donor that could not"
                + " prove the cluster secret, or refused this client's proof.", wire.authFailures());
        for (Map.Entry<String, DonorLatency> e : wire.latencies().entrySet()) {
            String donor = e.getKey();
            DonorLatency l = e.getValue();
            String name = "valet_client_request_duration_seconds";
            String help = "Round trip of requests to each donor, by operation (TCP and RDMA).";
            f.histogram(name, help, l.reads(), "donor", donor, "op", "read");
            f.histogram(name, help, l.writes(), "donor", donor, "op", "write");
            f.histogram(name, help, l.control(), "donor", donor, "op", "control");
        }
    }

    private void health(MetricFamilies f) {
        EngineStats s = engine.stats();
        Map<RemoteDonor.State, Integer> byState = new HashMap<>();
        for (RemoteDonor d : engine.donors()) {
            byState.merge(d.state(), 1, Integer::sum);
        }
        for (RemoteDonor.State state : RemoteDonor.State.values()) {
            f.gauge("valet_client_donors", "Donors of portal.list by state (live, suspected, dead, connecting).",
                    byState.getOrDefault(state, 0), "state", state.name().toLowerCase(Locale.ROOT));
        }
        f.gauge("valet_client_slabs_mapped", "Slabs with at least one copy.", s.slabsMapped());
        f.gauge("valet_client_slabs_degraded", "Mapped slabs with fewer copies than numReplica.", s.slabsDegraded());
        f.gauge("valet_client_slabs_without_copy", "Written slabs with no copy on any donor.", s.slabsWithoutCopy());
        f.gauge("valet_client_repair_queue_slabs", "Slabs waiting for re-replication or migration.",
                engine.repairQueued());
        f.counter("valet_client_rereplicated_slabs", "Copies completed by re-replication.", s.slabsRepaired());
        f.counter("valet_client_rereplicated_pages", "Pages copied by re-replication.", s.pagesCopied());
        f.counter("valet_client_migrated_slabs", "Slabs moved off donors that evicted them.", s.slabsMigrated());
        f.counter("valet_client_evictions_declined", "EVICTs declined (nowhere to put the slab, or moving failed).",
                s.evictionsDeclined());
        f.counter("valet_client_held_requests", "Requests held because no copy could be reached.", s.heldRequests());
        f.counter("valet_client_held_failed_requests", "Held requests failed when device.holdTimeout ran out.",
                s.heldFailed());
        f.gauge("valet_client_held_max_seconds", "The longest any request was held.", s.heldMaxMillis() / 1000.0);
    }

    private void donors(MetricFamilies f) {
        Map<RemoteDonor, Integer> copies = new HashMap<>();
        for (SlabEntry slab : engine.slabMap().touched()) {
            for (RemoteDonor d : slab.replicas()) {
                copies.merge(d, 1, Integer::sum);
            }
        }
        for (RemoteDonor d : engine.donors()) {
            String donor = d.address().toString();
            f.gauge("valet_client_donor_up", "1 while the donor is live, else 0.", d.isLive() ? 1 : 0,
                    "donor", donor);
            f.gauge("valet_client_donor_slabs", "Slab copies this client holds on each donor.",
                    copies.getOrDefault(d, 0), "donor", donor);
            f.gauge("valet_client_donor_rtt_seconds", "Each donor's measured heartbeat round trip.",
                    d.latencyNanos() / 1e9, "donor", donor);
            DonorStats s = d.stats();
            if (s != null) {
                f.gauge("valet_client_donor_lent_bytes", "What each donor last reported lending (all clients).",
                        s.lentBytes(), "donor", donor);
                f.gauge("valet_client_donor_host_free_bytes", "Each donor's host free memory, as last reported.",
                        s.freeMemoryBytes(), "donor", donor);
            }
        }
    }

    private static void kernel(MetricFamilies f, KernelChannel.Stats c) {
        String requests = "valet_client_kernel_requests";
        String requestsHelp = "Requests from /dev/valetN, by kind.";
        f.counter(requests, requestsHelp, c.reads(), "op", "read");
        f.counter(requests, requestsHelp, c.writes(), "op", "write");
        f.counter(requests, requestsHelp, c.flushes(), "op", "flush");
        f.counter("valet_client_kernel_failed_requests", "Requests answered with an error.", c.failed());
        f.counter("valet_client_kernel_invalid_requests", "Requests refused as invalid.", c.invalid());
        f.counter("valet_client_kernel_malformed_messages", "Malformed netlink messages dropped.", c.malformed());
        f.counter("valet_client_kernel_slot_waits", "Requests that waited for a free slot.", c.slotWaits());
        f.counter("valet_client_kernel_completions", "Completions sent back to the driver.", c.completions());
        f.counter("valet_client_kernel_engine_seconds", "Time reads and writes spent in the engine.",
                c.engineNanos() / 1e9);
    }

    private static void tier(MetricFamilies f, TierStats t) {
        f.gauge("valet_client_tier_slots", "Pages the host tier holds when full.", t.slots());
        String pages = "valet_client_tier_pages";
        String pagesHelp = "Host tier slots by state.";
        f.gauge(pages, pagesHelp, t.dirty(), "state", "dirty");
        f.gauge(pages, pagesHelp, t.clean(), "state", "clean");
        f.gauge(pages, pagesHelp, t.free(), "state", "free");
        f.counter("valet_client_tier_writes", "Write requests to the host tier.", t.writes());
        f.counter("valet_client_tier_write_waits", "Writes that waited for a flush to free a slot.", t.writeWaits());
        f.counter("valet_client_tier_reads", "Read requests to the host tier.", t.reads());
        f.counter("valet_client_tier_hit_pages", "Pages read from the host tier.", t.hits());
        f.counter("valet_client_tier_miss_pages", "Pages read from the donors instead.", t.misses());
        f.counter("valet_client_tier_prefetched_pages", "Pages read ahead into the tier.", t.prefetched());
        f.counter("valet_client_tier_flushed_pages", "Pages written from the tier to the donors.", t.flushed());
        f.counter("valet_client_tier_flush_failures", "Tier writes to the donors that failed.", t.flushFailures());
    }
}
