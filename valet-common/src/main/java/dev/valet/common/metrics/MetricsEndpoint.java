package dev.valet.common.metrics;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import dev.valet.common.config.MetricsConfig;
import dev.valet.common.portal.DonorAddress;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.util.function.Consumer;

/**
 * The HTTP endpoint of {@code metrics.listen}: {@code /metrics} in Prometheus' text format (or OpenMetrics, as the
 * scraper asks), built at each scrape by a collector that reads the daemon's counters, and optionally another
 * handler at {@code /} (the client's dashboard). Read-only: nothing served changes the daemon.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    private final HTTPServer server;
    private final String url;

    private MetricsEndpoint(HTTPServer server, String url) {
        this.server = server;
        this.url = url;
    }

    /**
     * Serves {@code /metrics} at {@code config.listen}, each scrape filled by {@code collect}.
     *
     * @param root  what {@code /} serves (the dashboard), or null for the library's page linking to /metrics
     * @param https TLS for the endpoint, or null for plain HTTP
     */
    public static MetricsEndpoint start(MetricsConfig config, Consumer<MetricFamilies> collect, HttpHandler root,
                                        HttpsConfigurator https) throws IOException {
        DonorAddress address = config.address();
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new MultiCollector() {
            @Override
            public MetricSnapshots collect() {
                MetricFamilies families = new MetricFamilies();
                collect.accept(families);
                return families.snapshots();
            }
        });
        HTTPServer.Builder builder = HTTPServer.builder()
                .inetAddress(InetAddress.getByName(address.host()))
                .port(address.port())
                .registry(registry);
        if (root != null) {
            builder.defaultHandler(root);
        }
        if (https != null) {
            builder.httpsConfigurator(https);
        }
        HTTPServer server;
        try {
            server = builder.buildAndStart();
        } catch (IOException e) {
            throw new IOException("metrics.listen " + address + ": cannot listen: " + e.getMessage(), e);
        }
        String host = address.host().contains(":") ? "[" + address.host() + "]" : address.host();
        String url = (https != null ? "https" : "http") + "://" + host + ":" + server.getPort();
        LOG.info("metrics at {}/metrics", url);
        return new MetricsEndpoint(server, url);
    }

    /** The port bound (the configured one, or the one picked for port 0). */
    public int port() {
        return server.getPort();
    }

    /** {@code http://host:port}, without a path. */
    public String url() {
        return url;
    }

    @Override
    public void close() {
        server.close();
    }
}
