package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code metrics:} section of valet.yaml and donor.yaml, read through the loader. */
class MetricsConfigTest {

    private static MetricsConfig client(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class).metrics();
    }

    private static MetricsConfig donor(String yaml) {
        return ConfigLoader.parse("donor.yaml", yaml, DonorConfig.class).metrics();
    }

    @Test
    void offByDefault() {
        assertThat(MetricsConfig.DEFAULTS.enabled()).isFalse();
        assertThat(client("transport: tcp\n")).isEqualTo(MetricsConfig.DEFAULTS);
        assertThat(donor("memory: 1G\n")).isEqualTo(MetricsConfig.DEFAULTS);
    }

    @TempDir
    Path dir;

    @Test
    void readsLoopbackAndAllowedRemoteAddresses() throws Exception {
        for (String f : new String[] {"c.pem", "k.pem", "ca.pem"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        MetricsConfig loopback = client("metrics:\n  listen: 127.0.0.1:9100\n");
        assertThat(loopback.enabled()).isTrue();
        assertThat(loopback.address().port()).isEqualTo(9100);
        assertThat(donor("metrics:\n  listen: 127.0.0.1:0\n").address().port()).isZero();
        assertThatThrownBy(() -> donor("metrics:\n  listen: 10.0.0.5:9101\n  allowRemote: true\n"))
                .hasMessageContaining("metrics.listen: 10.0.0.5:9101 is not loopback: the endpoint is then served"
                        + " only over TLS");
        assertThat(client("metrics:\n  listen: 10.0.0.5:9101\n  allowRemote: true\ntls:\n  enabled: true\n"
                + "  certificateChain: " + dir.resolve("c.pem") + "\n  privateKey: " + dir.resolve("k.pem")
                + "\n  trustedCertificates: " + dir.resolve("ca.pem") + "\n").address()
                .isLoopback()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "listen: 10.0.0.5:9100   | metrics.listen: refusing to serve metrics on 10.0.0.5:9100, which is not loopback",
        "listen: 127.0.0.1       | metrics.listen: missing ':port' in '127.0.0.1'",
        "listen: 127.0.0.1:70000 | metrics.listen: bad port",
    })
    void refusesBadValuesNamingTheKey(String line, String message) {
        assertThatThrownBy(() -> client("metrics:\n  " + line + "\n")).hasMessageContaining(message.strip());
        assertThatThrownBy(() -> donor("metrics:\n  " + line + "\n")).hasMessageContaining(message.strip());
    }

    @Test
    void controlSocketIsOnByDefaultAndMustBeAnAbsolutePath() {
        ClientConfig defaults = ConfigLoader.parse("valet.yaml", "", ClientConfig.class);
        assertThat(defaults.control().path()).hasToString("/run/valet/client.sock");
        assertThat(ConfigLoader.parse("valet.yaml", "control:\n  socket: \"\"\n", ClientConfig.class).control()
                .enabled()).isFalse();
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "control:\n  socket: run/valet.sock\n",
                ClientConfig.class)).hasMessageContaining("control.socket: 'run/valet.sock' is not an absolute path");
    }
}
