package dev.valet.client.metrics;

import dev.valet.client.TestCertificates;
import dev.valet.common.config.MetricsConfig;
import dev.valet.common.config.TlsConfig;
import dev.valet.common.metrics.MetricsEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The endpoint over HTTPS with the daemon's own certificate, and refused beyond loopback without one. */
class MetricsOverTlsTest {
    @TempDir
    Path dir;

    @Test
    void servesHttpsWithTheDaemonsCertificate() throws Exception {
        TestCertificates.Identity id = TestCertificates.create(dir, "daemon");
        TlsConfig tls = new TlsConfig(true, id.certificate().toString(), id.privateKey().toString(), "none");
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(new MetricsConfig("127.0.0.1:0", false),
                f -> f.gauge("valet_test_value", "A test value.", 42), null, tls)) {
            assertThat(endpoint.url()).startsWith("https://127.0.0.1:");
            HttpClient http = HttpClient.newBuilder().sslContext(trusting(id.certificate())).build();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(endpoint.url() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("valet_test_value 42.0");
        }
    }

    @Test
    void refusesAnAddressBeyondLoopbackWithoutACertificate() {
        assertThatThrownBy(() -> MetricsEndpoint.start(new MetricsConfig("192.0.2.1:0", true), f -> { }, null,
                TlsConfig.DEFAULTS))
                .hasMessage("metrics.listen 192.0.2.1:0 is not loopback: it is served only over TLS, with"
                        + " tls.certificateChain and tls.privateKey (tls.enabled: true)");
    }

    private static SSLContext trusting(Path certificate) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(certificate)) {
            store.setCertificateEntry("daemon", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
