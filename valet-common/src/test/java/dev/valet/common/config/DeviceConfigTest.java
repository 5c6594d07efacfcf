package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code device:} section of valet.yaml, read through the loader. */
class DeviceConfigTest {

    private static ClientConfig client(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class);
    }

    private static DeviceConfig device(String yaml) {
        return client(yaml).device();
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        DeviceConfig defaults = DeviceConfig.DEFAULTS;

        assertThat(defaults.queueDepth()).isEqualTo(256);
        assertThat(defaults.holdTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(defaults.ioTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(defaults.dataArea()).isEqualTo(ByteSize.ofMebibytes(8)).hasToString("8M");
        assertThatCode(defaults::validate).doesNotThrowAnyException();
        assertThat(client("transport: auto\n").device()).isEqualTo(defaults);
    }

    @Test
    void readsEveryKey() {
        assertThat(device("""
                device:
                  queueDepth: 1024
                  holdTimeout: 10m
                  ioTimeout: 90s
                  dataArea: 256M
                """)).isEqualTo(new DeviceConfig(1024, Duration.ofMinutes(10), Duration.ofSeconds(90),
                ByteSize.ofMebibytes(256)));
    }

    @Test
    void absentKeysInTheSectionTakeTheirDefaults() {
        assertThat(device("device:\n  queueDepth: 64\n")).isEqualTo(new DeviceConfig(64, Duration.ofSeconds(60),
                Duration.ofSeconds(30), ByteSize.ofMebibytes(8)));
        assertThat(device("device: {}\n")).isEqualTo(DeviceConfig.DEFAULTS);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            queueDepth: 0        | device.queueDepth: must be between 1 and 4096, got 0
            queueDepth: 4097     | device.queueDepth: must be between 1 and 4096, got 4097
            queueDepth: -1       | device.queueDepth: must be between 1 and 4096, got -1
            queueDepth: deep     | device.queueDepth: expected a whole number, got 'deep'
            holdTimeout: 999ms   | device.holdTimeout: must be between 1s and 1h, got 999ms
            holdTimeout: 61m     | device.holdTimeout: must be between 1s and 1h, got 61m
            holdTimeout: 60      | device.holdTimeout: duration '60' has no unit (expected a duration like 500ms, 1s, 2m or 1h: write 60s or 60ms, not a bare number)
            ioTimeout: 0s        | device.ioTimeout: must be between 1s and 10m, got 0s
            ioTimeout: 601s      | device.ioTimeout: must be between 1s and 10m, got 601s
            ioTimeout:           | device.ioTimeout: no value given (write a value, or remove the key to use the default)
            dataArea: 256K       | device.dataArea: must be between 512K and 1G, got 256K
            dataArea: 2G         | device.dataArea: must be between 512K and 1G, got 2G
            dataArea: 1000000    | device.dataArea: must be a multiple of 4K (4096 bytes), got 1000000
            dataArea: lots       | device.dataArea: bad size 'lots' (expected a size like 4096, 64K, 512M or 8G)
            """)
    void refusesBadValuesAtTheirLine(String line, String message) {
        assertThatThrownBy(() -> client("transport: auto\ndevice:\n  " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:3:3: " + message);
    }

    @Test
    void acceptsTheEdgesOfEachRange() {
        assertThat(device("device:\n  queueDepth: 1\n  holdTimeout: 1s\n  ioTimeout: 1s\n  dataArea: 512K\n"))
                .isEqualTo(new DeviceConfig(1, Duration.ofSeconds(1), Duration.ofSeconds(1),
                        ByteSize.ofKibibytes(512)));
        assertThat(device("device:\n  queueDepth: 4096\n  holdTimeout: 1h\n  ioTimeout: 10m\n  dataArea: 1G\n"))
                .isEqualTo(new DeviceConfig(4096, Duration.ofHours(1), Duration.ofMinutes(10),
                        ByteSize.ofGibibytes(1)));
    }

    @Test
    void unknownKeyInDeviceListsTheDeviceKeys() {
        assertThatThrownBy(() -> client("device:\n  queueDepth: 8\n  holdtimeout: 5s\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("device.holdtimeout");
                    assertThat(e.line()).isEqualTo(3);
                })
                .hasMessage("valet.yaml:3:3: device.holdtimeout: unknown key 'holdtimeout' (did you mean"
                        + " 'holdTimeout'?); valid keys: queueDepth, holdTimeout, ioTimeout, dataArea");
    }

    @Test
    void validateNamesKeysRelativeToTheSection() {
        assertThatThrownBy(() -> new DeviceConfig(256, Duration.ofSeconds(60), Duration.ofHours(1),
                ByteSize.ofMebibytes(8)).validate())
                .isInstanceOfSatisfying(ConfigProblem.class, p -> assertThat(p.keyPath()).isEqualTo("ioTimeout"))
                .hasMessage("ioTimeout: must be between 1s and 10m, got 1h");
        ClientConfig d = ClientConfig.defaults();
        assertThatThrownBy(() -> new ClientConfig(d.identity(), d.portalList(), d.connectTimeout(),
                d.requestTimeout(), d.maxPagesPerFrame(), d.transport(), d.swapSpace(), d.slabSize(), d.backupDisk(),
                d.placement(), d.failover(), new DeviceConfig(256, Duration.ofMillis(1), Duration.ofSeconds(30),
                ByteSize.ofMebibytes(8)), d.hostTier(), d.auth(), d.tls(), d.nbd(), d.metrics(),
                d.control(), d.encryption()).validate())
                .isInstanceOfSatisfying(ConfigProblem.class,
                        p -> assertThat(p.keyPath()).isEqualTo("device.holdTimeout"));
    }

    @Test
    void overridesChangeOneKey() {
        DeviceConfig d = DeviceConfig.DEFAULTS;

        assertThat(override("queueDepth", 8))
                .isEqualTo(new DeviceConfig(8, d.holdTimeout(), d.ioTimeout(), d.dataArea()));
        assertThat(override("holdTimeout", "5s"))
                .isEqualTo(new DeviceConfig(d.queueDepth(), Duration.ofSeconds(5), d.ioTimeout(), d.dataArea()));
        assertThat(override("ioTimeout", Duration.ofSeconds(5)))
                .isEqualTo(new DeviceConfig(d.queueDepth(), d.holdTimeout(), Duration.ofSeconds(5), d.dataArea()));
        assertThat(override("dataArea", "64M"))
                .isEqualTo(new DeviceConfig(d.queueDepth(), d.holdTimeout(), d.ioTimeout(), ByteSize.ofMebibytes(64)));
    }

    private static DeviceConfig override(String keyPath, Object value) {
        return ConfigLoader.override(DeviceConfig.DEFAULTS, ConfigOverride.of(keyPath, value));
    }

}
