package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code auth}, {@code tls} and {@code limits} sections of donor.yaml and valet.yaml. */
class SecurityConfigTest {
    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private Path secret(String mode) throws IOException {
        Path f = dir.resolve("cluster.secret");
        Files.write(f, new byte[48]);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void secretFileIsRelativeToTheYamlFileAndLoads() throws IOException {
        secret("rw-------");
        Path yaml = write("donor.yaml", "auth:\n  secretFile: cluster.secret\n");
        DonorConfig c = ConfigLoader.load(yaml, DonorConfig.class);
        assertThat(c.auth().secretPath()).contains(dir.resolve("cluster.secret"));
        assertThat(c.auth().loadSecret()).isPresent();
        Path client = write("valet.yaml", "auth:\n  secretFile: cluster.secret\n");
        assertThat(ConfigLoader.load(client, ClientConfig.class).auth().secretPath())
                .contains(dir.resolve("cluster.secret"));
    }

    @Test
    void aSecretOthersCanReadStopsTheLoadAtItsLine() throws IOException {
        secret("rw-r--r--");
        Path yaml = write("donor.yaml", "memory: 1G\nauth:\n  secretFile: cluster.secret\n");
        assertThatThrownBy(() -> ConfigLoader.load(yaml, DonorConfig.class)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(yaml + ":3:3: auth.secretFile: " + dir.resolve("cluster.secret")
                        + " is rw-r--r--: group or others may read or write it; run chmod 600");
    }

    @Test
    void aMissingOrShortSecretStopsTheLoad() throws IOException {
        Path yaml = write("valet.yaml", "auth:\n  secretFile: nowhere.secret\n");
        assertThatThrownBy(() -> ConfigLoader.load(yaml, ClientConfig.class))
                .hasMessage(yaml + ":2:3: auth.secretFile: no such file " + dir.resolve("nowhere.secret"));
        Files.write(dir.resolve("short.secret"), new byte[16]);
        Files.setPosixFilePermissions(dir.resolve("short.secret"), PosixFilePermissions.fromString("rw-------"));
        Path shortYaml = write("short.yaml", "auth:\n  secretFile: short.secret\n");
        assertThatThrownBy(() -> ConfigLoader.load(shortYaml, DonorConfig.class))
                .hasMessageContaining("auth.secretFile: " + dir.resolve("short.secret") + " has 16 bytes");
    }

    @Test
    void allowUnauthenticatedWithASecretIsContradictory() throws IOException {
        secret("rw-------");
        Path yaml = write("donor.yaml", "auth:\n  secretFile: cluster.secret\n  allowUnauthenticated: true\n");
        assertThatThrownBy(() -> ConfigLoader.load(yaml, DonorConfig.class))
                .hasMessageStartingWith(yaml + ":3:3: auth.allowUnauthenticated: must be false when secretFile is set");
    }

    @Test
    void aDonorWithoutASecretMayOnlyListenOnLoopbackUnlessAllowed() throws IOException {
        DonorConfig open = DonorConfig.defaults();
        assertThat(open.unauthenticatedExposure()).contains("refusing to listen on 0.0.0.0:7070 without"
                + " authentication").contains("auth.secretFile").contains("auth.allowUnauthenticated: true");
        assertThat(override(open, "listen", "127.0.0.1:0").unauthenticatedExposure()).isNull();
        assertThat(override(open, "listen", DonorAddress.parseListen("[::1]:7070")).unauthenticatedExposure()).isNull();
        assertThat(override(open, "listen", "localhost:7070").unauthenticatedExposure()).isNull();
        assertThat(override(open, "auth.allowUnauthenticated", true).unauthenticatedExposure()).isNull();
        secret("rw-------");
        assertThat(override(open, "auth.secretFile", dir.resolve("cluster.secret")).unauthenticatedExposure())
                .isNull();
    }

    private static DonorConfig override(DonorConfig config, String keyPath, Object value) {
        return ConfigLoader.override(config, ConfigOverride.of(keyPath, value));
    }

    @Test
    void limitsAreReadAndRangeChecked() {
        DonorConfig c = ConfigLoader.parse("donor.yaml", """
                limits:
                  maxClients: 4
                  maxSlabsPerClient: 10
                  maxInFlightPerConnection: 8
                  idleTimeout: 5s
                  handshakeTimeout: 500ms
                """, DonorConfig.class);
        assertThat(c.limits()).isEqualTo(new LimitsConfig(4, 10, 8, Duration.ofSeconds(5), Duration.ofMillis(500)));
        assertThat(DonorConfig.defaults().limits()).isEqualTo(new LimitsConfig(32, 1024, 64, Duration.ofSeconds(60),
                Duration.ofSeconds(10)));
        assertThatThrownBy(() -> ConfigLoader.parse("donor.yaml", "limits:\n  maxClients: 0\n", DonorConfig.class))
                .hasMessage("donor.yaml:2:3: limits.maxClients: must be between 1 and 65536, got 0");
        assertThatThrownBy(() -> ConfigLoader.parse("donor.yaml", "limits:\n  idleTimeout: 10ms\n",
                DonorConfig.class)).hasMessage("donor.yaml:2:3: limits.idleTimeout: must be between 1s and 24h,"
                + " got 10ms");
        // LIST_SLABS must be able to list every slab a client may hold: 4094 fit in a 64K frame.
        assertThatThrownBy(() -> ConfigLoader.parse("donor.yaml", "maxFrameBytes: 64K\nlimits:\n"
                + "  maxSlabsPerClient: 5000\n", DonorConfig.class))
                .hasMessage("donor.yaml:3:3: limits.maxSlabsPerClient: must be between 1 and 4094, got 5000");
    }

    @Test
    void tlsNeedsItsFilesOnEachSide() throws IOException {
        Path cert = write("cert.pem", "x");
        assertThatThrownBy(() -> ConfigLoader.parse("donor.yaml", "tls:\n  enabled: true\n", DonorConfig.class))
                .hasMessage("donor.yaml: tls.certificateChain: a donor with TLS enabled needs its certificate chain"
                        + " and private key (tls.certificateChain is not set in this file, so its default applies)");
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "tls:\n  enabled: true\n", ClientConfig.class))
                .hasMessageContaining("tls.trustedCertificates: a client with TLS enabled needs the certificates");
        assertThatThrownBy(() -> ConfigLoader.parse("donor.yaml", "tls:\n  certificateChain: " + cert + "\n",
                DonorConfig.class)).hasMessageContaining("tls.privateKey: certificateChain and privateKey go"
                + " together");
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "tls:\n  trustedCertificates: "
                + dir.resolve("absent.pem") + "\n", ClientConfig.class))
                .hasMessage("valet.yaml:2:3: tls.trustedCertificates: cannot read " + dir.resolve("absent.pem"));
        Path yaml = write("valet.yaml", "tls:\n  enabled: true\n  trustedCertificates: cert.pem\n");
        assertThat(ConfigLoader.load(yaml, ClientConfig.class).tls().trustedCertificatesPath()).contains(cert);
    }
}
