package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;

import java.util.Objects;

/**
 * The Prometheus endpoint ({@code metrics} in valet.yaml and donor.yaml, docs/operations.md): the daemon serves
 * {@code /metrics} (and, on the client, the dashboard at {@code /}) over HTTP.
 *
 * @param listen      {@code host:port} to serve on; empty (the default) serves nothing; port 0 picks a free port
 * @param allowRemote whether {@code listen} may be an address other than loopback: the page is read-only but
 *                    tells anyone who can reach it the cluster's donors, sizes and load; default {@code false}
 */
public record MetricsConfig(String listen, boolean allowRemote) {
    public static final MetricsConfig DEFAULTS = new MetricsConfig("", false);

    public MetricsConfig {
        Objects.requireNonNull(listen, "listen");
    }

    /** Whether the endpoint is served ({@code listen} is set). */
    public boolean enabled() {
        return !listen.isEmpty();
    }

    /** The address to serve on; only when {@link #enabled()}. */
    public DonorAddress address() {
        return DonorAddress.parseListen(listen);
    }

    /** @throws ConfigProblem with the key path relative to {@code metrics} */
    void validate() {
        if (!enabled()) {
            return;
        }
        DonorAddress address;
        try {
            address = address();
        } catch (IllegalArgumentException e) {
            throw new ConfigProblem("listen", e.getMessage());
        }
        if (!address.isLoopback() && !allowRemote) {
            throw new ConfigProblem("listen", "refusing to serve metrics on " + address + ", which is not"
                    + " loopback: anyone who can reach it would see this cluster's donors, sizes and load; listen on"
                    + " 127.0.0.1, or set metrics.allowRemote: true");
        }
    }
}
