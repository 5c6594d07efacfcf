package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code nbd:} section of valet.yaml, read through the loader. */
class NbdConfigTest {

    private static NbdConfig nbd(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class).nbd();
    }

    @Test
    void offByDefault() {
        assertThat(NbdConfig.DEFAULTS.enabled()).isFalse();
        assertThat(nbd("transport: tcp\n")).isEqualTo(NbdConfig.DEFAULTS);
        assertThat(NbdConfig.DEFAULTS.maxRequestBytes()).hasToString("2M");
    }

    @Test
    void readsUnixAndLoopbackTcpEndpoints() {
        NbdConfig unix = nbd("nbd:\n  listen: unix:/run/valet/nbd.sock\n  maxRequestBytes: 1M\n");
        assertThat(unix.enabled()).isTrue();
        assertThat(unix.unixPath()).isEqualTo("/run/valet/nbd.sock");
        assertThat(unix.tcpAddress()).isNull();
        assertThat(unix.maxRequestBytes()).isEqualTo(ByteSize.ofMebibytes(1));
        NbdConfig tcp = nbd("nbd:\n  listen: tcp:127.0.0.1:10809\n");
        assertThat(tcp.unixPath()).isNull();
        assertThat(tcp.tcpAddress().port()).isEqualTo(10809);
        assertThat(nbd("nbd:\n  listen: tcp:10.0.0.5:10809\n  allowInsecure: true\n").tcpAddress().isLoopback())
                .isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "listen: tcp:10.0.0.5:10809   | nbd.listen: refusing to serve NBD on 10.0.0.5:10809, which is not loopback",
        "listen: 'unix:'              | nbd.listen: 'unix:' has no socket path",
        "listen: /run/nbd.sock        | nbd.listen: '/run/nbd.sock' is neither unix:/path nor tcp:host:port",
        "listen: tcp:127.0.0.1        | nbd.listen: missing ':port' in '127.0.0.1'",
        "maxRequestBytes: 6K          | nbd.maxRequestBytes: ",
        "maxRequestBytes: 64M         | nbd.maxRequestBytes: ",
    })
    void refusesBadValuesNamingTheKey(String line, String message) {
        assertThatThrownBy(() -> nbd("nbd:\n  " + line + "\n")).hasMessageContaining(message.strip());
    }

    @TempDir
    Path dir;

    /** A tls section, enabled, whose files exist (their contents are read only when a connection needs them). */
    private String tls(boolean ownCertificate) throws IOException {
        String yaml = "tls:\n  enabled: true\n  trustedCertificates: " + Files.writeString(dir.resolve("ca.pem"), "x")
                + "\n";
        if (ownCertificate) {
            yaml += "  certificateChain: " + Files.writeString(dir.resolve("me.pem"), "x") + "\n  privateKey: "
                    + Files.writeString(dir.resolve("me.key"), "x") + "\n";
        }
        return yaml;
    }

    @Test
    void withTlsATcpExportRequiresStartTlsOnAnyAddressAndAUnixSocketNever() throws IOException {
        ClientConfig c = ConfigLoader.parse("valet.yaml", tls(true) + "nbd:\n  listen: tcp:10.0.0.5:10809\n",
                ClientConfig.class);
        assertThat(c.nbd().tlsRequired(c.tls())).isTrue();
        ClientConfig unix = ConfigLoader.parse("valet.yaml", tls(false) + "nbd:\n  listen: unix:/run/valet/nbd.sock\n",
                ClientConfig.class);
        assertThat(unix.nbd().tlsRequired(unix.tls())).isFalse();
        ClientConfig plain = ConfigLoader.parse("valet.yaml", "nbd:\n  listen: tcp:127.0.0.1:10809\n",
                ClientConfig.class);
        assertThat(plain.nbd().tlsRequired(plain.tls())).isFalse();
    }

    @Test
    void aTlsExportOverTcpNeedsTheClientsOwnCertificate() throws IOException {
        String yaml = tls(false);
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", yaml + "nbd:\n  listen: tcp:127.0.0.1:10809\n",
                ClientConfig.class)).hasMessageContaining("nbd.listen: serving NBD over TCP with tls.enabled needs")
                .hasMessageContaining("tls.certificateChain");
    }
}
