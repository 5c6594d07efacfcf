package dev.valet.cli;

import dev.valet.client.dashboard.ClientView;
import dev.valet.client.dashboard.DashboardHandler;
import dev.valet.client.engine.Engine;
import dev.valet.client.kernel.KernelChannel;
import dev.valet.client.metrics.ClientMetrics;
import dev.valet.client.tier.TierStats;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.metrics.MetricsEndpoint;

import java.io.IOException;
import java.util.function.Supplier;

/**
 * What a running client daemon serves to observers besides its device: at {@code metrics.listen} (off by default)
 * the Prometheus endpoint ({@code /metrics}) and the dashboard ({@code /}). Read-only; opened after the engine and
 * closed before it.
 */
final class ClientEndpoints implements AutoCloseable {
    private final ClientView view;
    private final MetricsEndpoint metrics;

    private ClientEndpoints(ClientView view, MetricsEndpoint metrics) {
        this.view = view;
        this.metrics = metrics;
    }

    /**
     * @param channel the kernel channel's counters, or null (NBD front end)
     * @param tier    the host tier's counters, or null
     */
    static ClientEndpoints start(ClientConfig config, Engine engine, Supplier<KernelChannel.Stats> channel,
                                 Supplier<TierStats> tier) throws IOException {
        if (!config.metrics().enabled()) {
            return new ClientEndpoints(null, null);
        }
        ClientView view = ClientView.start(engine, config.identity(), config.slabSize().bytes());
        try {
            MetricsEndpoint metrics = MetricsEndpoint.start(config.metrics(), new ClientMetrics(engine, channel, tier),
                    new DashboardHandler(view::state), null);
            return new ClientEndpoints(view, metrics);
        } catch (IOException | RuntimeException e) {
            view.close();
            throw e;
        }
    }

    /** {@code http://host:port} of the endpoint, or null when {@code metrics.listen} is off. */
    String url() {
        return metrics != null ? metrics.url() : null;
    }

    /** For the daemon's "serving" line: {@code ; metrics and dashboard at http://...} or nothing. */
    String summary() {
        return metrics != null ? "; metrics and dashboard at " + metrics.url() + "/" : "";
    }

    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
        if (view != null) {
            view.close();
        }
    }
}
