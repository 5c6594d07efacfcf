package dev.valet.cli;

import dev.valet.client.engine.Engine;
import dev.valet.client.kernel.KernelChannel;
import dev.valet.client.metrics.ClientMetrics;
import dev.valet.client.tier.TierStats;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.metrics.MetricsEndpoint;

import java.io.IOException;
import java.util.function.Supplier;

/**
 * What a running client daemon serves to observers besides its device: the Prometheus endpoint at
 * {@code metrics.listen} (off by default). Read-only; opened after the engine and closed before it.
 */
final class ClientEndpoints implements AutoCloseable {
    private final MetricsEndpoint metrics;

    private ClientEndpoints(MetricsEndpoint metrics) {
        this.metrics = metrics;
    }

    /**
     * @param channel the kernel channel's counters, or null (NBD front end)
     * @param tier    the host tier's counters, or null
     */
    static ClientEndpoints start(ClientConfig config, Engine engine, Supplier<KernelChannel.Stats> channel,
                                 Supplier<TierStats> tier) throws IOException {
        MetricsEndpoint metrics = null;
        if (config.metrics().enabled()) {
            metrics = MetricsEndpoint.start(config.metrics(), new ClientMetrics(engine, channel, tier), null, null);
        }
        return new ClientEndpoints(metrics);
    }

    /** For the daemon's "serving" line: {@code ; metrics at http://...} or nothing. */
    String summary() {
        return metrics != null ? "; metrics and dashboard at " + metrics.url() + "/" : "";
    }

    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
    }
}
