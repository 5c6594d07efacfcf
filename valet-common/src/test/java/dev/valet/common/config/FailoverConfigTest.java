package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code failover:} section of valet.yaml, read through the loader. */
class FailoverConfigTest {

    private static ClientConfig client(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class);
    }

    private static FailoverConfig failover(String yaml) {
        return client(yaml).failover();
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        FailoverConfig defaults = FailoverConfig.DEFAULTS;

        assertThat(defaults.heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(defaults.donorTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(defaults.reReplicationRate()).hasToString("256M");
        assertThatCode(defaults::validate).doesNotThrowAnyException();
    }

    @Test
    void readsEveryKey() {
        assertThat(failover("""
                failover:
                  heartbeatInterval: 100ms
                  donorTimeout: 30s
                  reReplicationRate: 2G
                """)).isEqualTo(new FailoverConfig(Duration.ofMillis(100), Duration.ofSeconds(30),
                ByteSize.ofGibibytes(2), ByteSize.ofGibibytes(1), Duration.ofSeconds(60), Duration.ofMinutes(2)));
    }

    @Test
    void absentKeysInTheSectionTakeTheirDefaults() {
        assertThat(failover("failover:\n  reReplicationRate: 64M\n"))
                .isEqualTo(failover(Duration.ofSeconds(1), Duration.ofSeconds(3), ByteSize.ofMebibytes(64)));
        assertThat(failover("failover: {}\n")).isEqualTo(FailoverConfig.DEFAULTS);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            heartbeatInterval: 9ms   | failover.heartbeatInterval: must be between 10ms and 1m, got 9ms
            heartbeatInterval: 0s    | failover.heartbeatInterval: must be between 10ms and 1m, got 0s
            heartbeatInterval: 61s   | failover.heartbeatInterval: must be between 10ms and 1m, got 61s
            donorTimeout: 2h         | failover.donorTimeout: must be at least twice heartbeatInterval (2s) and at most 1h, got 2h
            donorTimeout: 61m        | failover.donorTimeout: must be at least twice heartbeatInterval (2s) and at most 1h, got 61m
            donorTimeout: 1s         | failover.donorTimeout: must be at least twice heartbeatInterval (2s) and at most 1h, got 1s
            reReplicationRate: 1023K | failover.reReplicationRate: must be between 1M and 64G, got 1023K
            reReplicationRate: 65G   | failover.reReplicationRate: must be between 1M and 64G, got 65G
            reReplicationRate: 0     | failover.reReplicationRate: must be between 1M and 64G, got 0
            reReplicationRate: fast  | failover.reReplicationRate: bad size 'fast' (expected a size like 4096, 64K, 512M or 8G)
            donorTimeout: 3          | failover.donorTimeout: duration '3' has no unit (expected a duration like 500ms, 1s, 2m or 1h: write 3s or 3ms, not a bare number)
            heartbeatInterval:       | failover.heartbeatInterval: no value given (write a value, or remove the key to use the default)
            """)
    void refusesBadValuesAtTheirLine(String line, String message) {
        assertThatThrownBy(() -> client("transport: auto\nfailover:\n  " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:3:3: " + message);
    }

    @Test
    void donorTimeoutUnderTwiceTheHeartbeatIntervalIsRefusedAtItsLine() {
        assertThatThrownBy(() -> client("failover:\n  heartbeatInterval: 1s\n  donorTimeout: 1999ms\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("failover.donorTimeout");
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.column()).isEqualTo(3);
                })
                .hasMessage("valet.yaml:3:3: failover.donorTimeout: must be at least twice heartbeatInterval (2s)"
                        + " and at most 1h, got 1999ms");
        assertThatThrownBy(() -> client("failover:\n  donorTimeout: 500ms\n  heartbeatInterval: 300ms\n"))
                .hasMessage("valet.yaml:2:3: failover.donorTimeout: must be at least twice heartbeatInterval"
                        + " (600ms) and at most 1h, got 500ms");
    }

    @Test
    void defaultDonorTimeoutUnderTwiceAWrittenHeartbeatIntervalIsRefusedWithoutALine() {
        assertThatThrownBy(() -> client("failover:\n  heartbeatInterval: 2s\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.line()).isZero())
                .hasMessage("valet.yaml: failover.donorTimeout: must be at least twice heartbeatInterval (4s) and at"
                        + " most 1h, got 3s (failover.donorTimeout is not set in this file, so its default applies)");
    }

    @Test
    void acceptsTheEdgesOfEachRange() {
        assertThat(failover("failover:\n  heartbeatInterval: 10ms\n  donorTimeout: 20ms\n"))
                .isEqualTo(failover(Duration.ofMillis(10), Duration.ofMillis(20), ByteSize.ofMebibytes(256)));
        assertThat(failover("failover:\n  heartbeatInterval: 1m\n  donorTimeout: 2m\n").donorTimeout())
                .isEqualTo(Duration.ofMinutes(2));
        assertThat(failover("failover:\n  heartbeatInterval: 1500ms\n").donorTimeout())
                .isEqualTo(Duration.ofSeconds(3));
        assertThat(failover("failover:\n  donorTimeout: 1h\n").donorTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(failover("failover:\n  reReplicationRate: 1M\n").reReplicationRate())
                .isEqualTo(ByteSize.ofMebibytes(1));
        assertThat(failover("failover:\n  reReplicationRate: 64G\n").reReplicationRate())
                .isEqualTo(ByteSize.ofGibibytes(64));
    }

    @Test
    void unknownKeyInFailoverListsTheFailoverKeys() {
        assertThatThrownBy(() -> client("failover:\n  heartbeatInterval: 1s\n  heartbeat: 1s\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("failover.heartbeat");
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.column()).isEqualTo(3);
                })
                .hasMessage("valet.yaml:3:3: failover.heartbeat: unknown key 'heartbeat'; valid keys:"
                        + " heartbeatInterval, donorTimeout, reReplicationRate, migrationRate, deadAfter,"
                        + " readyTimeout");
        assertThatThrownBy(() -> client("failover:\n  donortimeout: 5s\n"))
                .hasMessage("valet.yaml:2:3: failover.donortimeout: unknown key 'donortimeout' (did you mean"
                        + " 'donorTimeout'?); valid keys: heartbeatInterval, donorTimeout, reReplicationRate,"
                        + " migrationRate, deadAfter, readyTimeout");
    }

    @Test
    void validateNamesKeysRelativeToTheSection() {
        assertThatThrownBy(() -> failover(Duration.ofMinutes(2), Duration.ofSeconds(3), ByteSize.ofMebibytes(256))
                .validate())
                .isInstanceOfSatisfying(ConfigProblem.class,
                        p -> assertThat(p.keyPath()).isEqualTo("heartbeatInterval"))
                .hasMessage("heartbeatInterval: must be between 10ms and 1m, got 2m");
        assertThatThrownBy(() -> failover(Duration.ofSeconds(1), Duration.ofSeconds(3), ByteSize.ofKibibytes(1))
                .validate())
                .hasMessage("reReplicationRate: must be between 1M and 64G, got 1K");
        ClientConfig d = ClientConfig.defaults();
        assertThatThrownBy(() -> new ClientConfig(d.identity(), d.portalList(), d.connectTimeout(),
                d.requestTimeout(), d.maxPagesPerFrame(), d.transport(), d.swapSpace(), d.slabSize(), d.backupDisk(),
                d.placement(), failover(Duration.ofSeconds(2), Duration.ofSeconds(3), ByteSize.ofMebibytes(256)),
                d.device(), d.hostTier(), d.auth(), d.tls(), d.nbd(), d.metrics(), d.control(), d.encryption())
                .validate())
                .isInstanceOfSatisfying(ConfigProblem.class,
                        p -> assertThat(p.keyPath()).isEqualTo("failover.donorTimeout"));
    }

    @Test
    void overridesChangeOneKey() {
        FailoverConfig defaults = FailoverConfig.DEFAULTS;

        assertThat(override("heartbeatInterval", "50ms")).isEqualTo(failover(Duration.ofMillis(50),
                defaults.donorTimeout(), defaults.reReplicationRate()));
        assertThat(override("donorTimeout", "9s")).isEqualTo(failover(defaults.heartbeatInterval(),
                Duration.ofSeconds(9), defaults.reReplicationRate()));
        assertThat(override("reReplicationRate", "1G")).isEqualTo(failover(defaults.heartbeatInterval(),
                defaults.donorTimeout(), ByteSize.ofGibibytes(1)));
    }

    /** {@code deadAfter} is derived from {@code donorTimeout} unless written, in a file or by an override. */
    @Test
    void deadAfterDefaultsToDonorTimeoutWhenThatIsLonger() {
        assertThat(failover("failover:\n  donorTimeout: 2m\n").deadAfter()).isEqualTo(Duration.ofMinutes(2));
        assertThat(failover("failover:\n  donorTimeout: 30s\n").deadAfter()).isEqualTo(Duration.ofSeconds(60));
        assertThat(failover("failover:\n  donorTimeout: 2m\n  deadAfter: 5m\n").deadAfter())
                .isEqualTo(Duration.ofMinutes(5));
        assertThat(override("donorTimeout", "90s").deadAfter()).isEqualTo(Duration.ofSeconds(90));
        FailoverConfig written = failover("failover:\n  deadAfter: 10m\n");
        assertThat(ConfigLoader.override(written, ConfigOverride.of("donorTimeout", "90s")).deadAfter())
                .isEqualTo(Duration.ofMinutes(10));
        assertThatThrownBy(() -> failover("failover:\n  donorTimeout: 2m\n  deadAfter: 1m\n"))
                .hasMessage("valet.yaml:3:3: failover.deadAfter: must be at least donorTimeout (2m) and at most 24h,"
                        + " got 1m");
    }

    private static FailoverConfig override(String keyPath, String value) {
        return ConfigLoader.override(FailoverConfig.DEFAULTS, ConfigOverride.of(keyPath, value));
    }

    /** With the default {@code migrationRate}, {@code deadAfter} (derived) and {@code readyTimeout}. */
    private static FailoverConfig failover(Duration heartbeatInterval, Duration donorTimeout, ByteSize rate) {
        return new FailoverConfig(heartbeatInterval, donorTimeout, rate, ByteSize.ofGibibytes(1), null,
                Duration.ofMinutes(2));
    }

}
