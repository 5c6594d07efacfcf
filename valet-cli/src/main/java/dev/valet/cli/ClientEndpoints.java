package dev.valet.cli;

import dev.valet.client.control.ControlSocket;
import dev.valet.client.dashboard.ClientView;
import dev.valet.client.dashboard.DashboardHandler;
import dev.valet.client.engine.Engine;
import dev.valet.client.kernel.KernelChannel;
import dev.valet.client.metrics.ClientMetrics;
import dev.valet.client.tier.TierStats;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.metrics.MetricsEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.function.Supplier;

/**
 * What a running client daemon serves to observers besides its device: at {@code metrics.listen} (off by default)
 * the Prometheus endpoint ({@code /metrics}) and the dashboard ({@code /}); at {@code control.socket} the control
 * socket {@code valet status --client} reads. Read-only; opened after the engine and closed before it. A control
 * socket that cannot be opened is a warning, not a failure: observing must not stop the paging.
 */
final class ClientEndpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClientEndpoints.class);

    private final ClientView view;
    private final MetricsEndpoint metrics;
    private final ControlSocket control;

    private ClientEndpoints(ClientView view, MetricsEndpoint metrics, ControlSocket control) {
        this.view = view;
        this.metrics = metrics;
        this.control = control;
    }

    /**
     * @param channel the kernel channel's counters, or null (NBD front end)
     * @param tier    the host tier's counters, or null
     */
    static ClientEndpoints start(ClientConfig config, Engine engine, Supplier<KernelChannel.Stats> channel,
                                 Supplier<TierStats> tier) throws IOException {
        if (!config.metrics().enabled() && !config.control().enabled()) {
            return new ClientEndpoints(null, null, null);
        }
        ClientView view = ClientView.start(engine, config.identity(), config.slabSize().bytes());
        MetricsEndpoint metrics = null;
        try {
            if (config.metrics().enabled()) {
                metrics = MetricsEndpoint.start(config.metrics(), new ClientMetrics(engine, channel, tier),
                        new DashboardHandler(view::state), config.tls());
            }
        } catch (IOException | RuntimeException e) {
            view.close();
            throw e;
        }
        ControlSocket control = null;
        if (config.control().enabled()) {
            try {
                control = ControlSocket.open(config.control().path(), view::status);
            } catch (IOException e) {
                LOG.warn("no control socket ({}): valet status --client cannot ask this daemon", e.getMessage());
            }
        }
        return new ClientEndpoints(view, metrics, control);
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
        if (control != null) {
            control.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (view != null) {
            view.close();
        }
    }
}
