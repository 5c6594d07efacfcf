package dev.valet.client.dashboard;

import dev.valet.common.protocol.ClientShares;

import java.util.List;

/**
 * The document the dashboard polls ({@code /api/state}), the same shape for the client daemon's view and the
 * cluster view of {@code valet dashboard}; what a view does not know is null (the cluster view knows no slabs).
 *
 * @param view    {@code client} or {@code cluster}
 * @param title   what the page is about (the client identity, or the portal.list)
 * @param time    when the document was made, ISO-8601 UTC
 * @param donors  one row per donor of portal.list, in its order
 * @param slabs   every slab with a copy or once written, with where its copies are (client view), else null
 * @param io      throughput and latency over the last interval
 * @param events  recent events, newest first
 */
public record DashboardState(String view, String title, String time, List<Donor> donors, List<Slab> slabs,
                             Io io, List<RecentEvents.Event> events) {

    /**
     * One donor.
     *
     * @param donor         its address
     * @param state         {@code live}, {@code suspected}, {@code dead}, {@code connecting} (client view), or
     *                      {@code live}, {@code down} (cluster view)
     * @param reason        why it is not live, or null
     * @param limitBytes    what it lends at most (0 when never heard from)
     * @param lentBytes     what it lends now, all clients
     * @param offeredBytes  what it would still lend
     * @param hostFreeBytes its host's free memory
     * @param slabs         slabs it holds, all clients
     * @param clients       clients connected to it (besides the cluster view's own connection)
     * @param rttMicros     round trip of a heartbeat
     * @param mineBytes     this client's share of {@code lentBytes} (client view), else null
     * @param shares        what each client identity holds there, largest first (cluster view, from the donor's
     *                      CLIENT_SHARES), else null; null too for a donor that is down or older than that request
     */
    public record Donor(String donor, String state, String reason, long limitBytes, long lentBytes,
                        long offeredBytes, long hostFreeBytes, int slabs, int clients, long rttMicros,
                        Long mineBytes, ClientShares shares) {
    }

    /**
     * One slab of the client's swap space.
     *
     * @param id        its id
     * @param copies    donors holding a current copy
     * @param suspended donors holding a copy that may be behind (their donor is silent)
     * @param degraded  fewer current copies than {@code numReplica}
     */
    public record Slab(long id, List<String> copies, List<String> suspended, boolean degraded) {
    }

    /**
     * Throughput and latency over the last interval.
     *
     * @param writePagesPerSecond pages written per second (cluster view: pages read and written at the donors)
     * @param readPagesPerSecond  pages read per second (cluster view: 0)
     * @param writeP99Millis      99th percentile of write round trips (cluster view: of heartbeats), upper bound
     * @param readP99Millis       99th percentile of read round trips (cluster view: 0)
     * @param writePages          pages written since the start (cluster view: 0)
     * @param readPages           pages read since the start (cluster view: 0)
     */
    public record Io(double writePagesPerSecond, double readPagesPerSecond, double writeP99Millis,
                     double readP99Millis, long writePages, long readPages) {
        public static final Io NONE = new Io(0, 0, 0, 0, 0, 0);
    }
}
