package dev.valet.common.metrics;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import dev.valet.common.config.MetricsConfig;
import dev.valet.common.config.TlsConfig;
import dev.valet.common.portal.DonorAddress;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.util.function.Consumer;

/**
 * The HTTP endpoint of {@code metrics.listen}: {@code /metrics} in Prometheus' text format (or OpenMetrics, as the
 * scraper asks), built at each scrape by a collector that reads the daemon's counters, and optionally another
 * handler at {@code /} (the client's dashboard). Read-only: nothing served changes the daemon. Served over HTTPS
 * with the daemon's own certificate ({@code tls.certificateChain}, {@code tls.privateKey}) when TLS is on and the
 * certificate is set, which an address beyond loopback requires (the configuration is refused otherwise).
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
     * @param root what {@code /} serves (the dashboard), or null for the library's page linking to /metrics
     * @param tls  the daemon's TLS settings: with {@code enabled} and a certificate, the endpoint is HTTPS
     */
    public static MetricsEndpoint start(MetricsConfig config, Consumer<MetricFamilies> collect, HttpHandler root,
                                        TlsConfig tls) throws IOException {
        DonorAddress address = config.address();
        HttpsConfigurator https = https(tls);
        if (https == null && !address.isLoopback()) {
            throw new IOException("metrics.listen " + address + " is not loopback: it is served only over TLS, with"
                    + " tls.certificateChain and tls.privateKey (tls.enabled: true)");
        }
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

    /** HTTPS with the daemon's certificate and key, or null when TLS is off or it has none. */
    private static HttpsConfigurator https(TlsConfig tls) throws IOException {
        if (!tls.enabled() || tls.certificateChainPath().isEmpty() || tls.privateKeyPath().isEmpty()) {
            return null;
        }
        try {
            JdkSslContext context = (JdkSslContext) SslContextBuilder.forServer(
                    tls.certificateChainPath().get().toFile(), tls.privateKeyPath().get().toFile())
                    .sslProvider(SslProvider.JDK).build();
            return new HttpsConfigurator(context.context());
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new IOException("metrics over TLS: cannot use tls.certificateChain and tls.privateKey: "
                    + e.getMessage(), e);
        }
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
