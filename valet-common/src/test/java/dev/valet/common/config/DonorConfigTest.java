package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DonorConfigTest {

    private static DonorConfig donor(String yaml) {
        return ConfigLoader.parse("donor.yaml", yaml, DonorConfig.class);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        DonorConfig defaults = DonorConfig.defaults();

        assertThat(defaults.listen()).hasToString("0.0.0.0:7070");
        assertThat(defaults.memory()).hasToString("1G");
        assertThat(defaults.maxFrameBytes()).hasToString("1M");
        assertThat(defaults.maxSlabBytes()).hasToString("1G");
        assertThat(defaults.lockMemory()).isTrue();
        assertThat(defaults.memorySampleInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(defaults.ewmaWeight()).isEqualTo(0.7);
        assertThat(defaults.gradientWindow()).isEqualTo(Duration.ofSeconds(8));
        assertThat(defaults.transport()).isEqualTo(TransportChoice.AUTO);
        assertThatCode(defaults::validate).doesNotThrowAnyException();
    }

    @Test
    void readsEveryKey() {
        DonorConfig config = donor("""
                listen: 10.1.2.3:9999
                memory: 8GiB
                maxFrameBytes: 4M
                maxSlabBytes: 256M
                lockMemory: false
                memorySampleInterval: 250ms
                ewmaWeight: 1
                gradientWindow: 2m
                transport: tcp
                headroom:
                  evictBelow: 2G
                  expandAbove: 3G
                  victim: oldest
                  evictTimeout: 5s
                """);

        assertThat(config).isEqualTo(new DonorConfig(DonorAddress.parse("10.1.2.3:9999"), ByteSize.parse("8G"),
                ByteSize.parse("4M"), ByteSize.parse("256M"), false, Duration.ofMillis(250), 1.0,
                Duration.ofMinutes(2), TransportChoice.TCP, new HeadroomConfig(ByteSize.parse("2G"),
                ByteSize.parse("3G"), VictimPolicy.OLDEST, Duration.ofSeconds(5)), AuthConfig.DEFAULTS,
                TlsConfig.DEFAULTS, LimitsConfig.DEFAULTS));
    }

    @Test
    void headroomKeysAreCheckedWithTheirPlace() {
        assertThatThrownBy(() -> donor("headroom:\n  evictBelow: 2G\n  expandAbove: 1G\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(":3:3: headroom.expandAbove: must be greater than evictBelow (2G)");
        assertThatThrownBy(() -> donor("headroom:\n  victim: newest\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("headroom.victim")
                .hasMessageContaining("unknown victim policy 'newest' (expected one of least-active, oldest)");
        assertThatThrownBy(() -> donor("headroom:\n  evictTimeout: 10ms\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(":2:3: headroom.evictTimeout: must be between 100ms and 10m, got 10ms");
        assertThat(donor("headroom:\n  victim: oldest\n").headroom())
                .isEqualTo(HeadroomConfig.DEFAULTS.withVictim(VictimPolicy.OLDEST));
    }

    @Test
    void sizeMayBeAYamlInteger() {
        assertThat(donor("memory: 1073741824\n").memory()).isEqualTo(ByteSize.parse("1G"));
    }

    @Test
    void withMethodsChangeOneKey() {
        DonorConfig defaults = DonorConfig.defaults();
        DonorAddress listen = DonorAddress.parse("0.0.0.0:9999");

        assertThat(defaults.withListen(listen)).isEqualTo(new DonorConfig(listen, defaults.memory(),
                defaults.maxFrameBytes(), defaults.maxSlabBytes(), defaults.lockMemory(),
                defaults.memorySampleInterval(), defaults.ewmaWeight(), defaults.gradientWindow(),
                defaults.transport(), defaults.headroom(), defaults.auth(), defaults.tls(), defaults.limits()));
        assertThat(defaults.withMemory(ByteSize.parse("8G")).memory()).hasToString("8G");
        assertThat(defaults.withMaxFrameBytes(ByteSize.parse("2M")).maxFrameBytes()).hasToString("2M");
        assertThat(defaults.withMaxSlabBytes(ByteSize.parse("64M")).maxSlabBytes()).hasToString("64M");
        assertThat(defaults.withLockMemory(false).lockMemory()).isFalse();
        assertThat(defaults.withMemorySampleInterval(Duration.ofMillis(100)).memorySampleInterval())
                .isEqualTo(Duration.ofMillis(100));
        assertThat(defaults.withEwmaWeight(0.5).ewmaWeight()).isEqualTo(0.5);
        assertThat(defaults.withGradientWindow(Duration.ofSeconds(30)).gradientWindow())
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(defaults.withTransport(TransportChoice.RDMA).transport()).isEqualTo(TransportChoice.RDMA);
        assertThat(defaults.withMemory(ByteSize.parse("8G")).withListen(listen))
                .isEqualTo(defaults.withListen(listen).withMemory(ByteSize.parse("8G")));
    }

    @Test
    void flagsOverrideTheFile() {
        DonorConfig fromFile = donor("listen: 0.0.0.0:7070\nmemory: 2G\nlockMemory: false\n");

        DonorConfig effective = fromFile.withListen(DonorAddress.parse("0.0.0.0:9999"))
                .withMemory(ByteSize.parse("8G"));

        assertThat(effective.listen()).hasToString("0.0.0.0:9999");
        assertThat(effective.memory()).hasToString("8G");
        assertThat(effective.lockMemory()).isFalse();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            memory               | 4K
            maxFrameBytes        | 64K
            maxFrameBytes        | 64M
            maxSlabBytes         | 4K
            maxSlabBytes         | 1G
            maxSlabBytes         | 12K
            memorySampleInterval | 10ms
            memorySampleInterval | 1m
            ewmaWeight           | 1
            ewmaWeight           | 0.001
            """)
    void acceptsTheEdgesOfEachRange(String key, String value) {
        String yaml = key + ": " + value + "\n" + (key.equals("memorySampleInterval") ? "gradientWindow: 2m\n" : "");

        assertThatCode(() -> donor(yaml)).doesNotThrowAnyException();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            memory               | 4095    | must be at least 4K, got 4095
            memory               | 0       | must be at least 4K, got 0
            maxFrameBytes        | 63K     | must be between 64K and 64M, got 63K
            maxFrameBytes        | 65M     | must be between 64K and 64M, got 65M
            maxSlabBytes         | 2K      | must be between 4K and 1G, got 2K
            maxSlabBytes         | 2G      | must be between 4K and 1G, got 2G
            maxSlabBytes         | 6K      | must be a multiple of 4K (4096 bytes), got 6K
            memorySampleInterval | 9ms     | must be between 10ms and 1m, got 9ms
            memorySampleInterval | 61s     | must be between 10ms and 1m, got 61s
            ewmaWeight           | 0       | must be greater than 0 and at most 1, got 0.0
            ewmaWeight           | -0.5    | must be greater than 0 and at most 1, got -0.5
            ewmaWeight           | 1.5     | must be greater than 0 and at most 1, got 1.5
            ewmaWeight           | .nan    | must be greater than 0 and at most 1, got NaN
            gradientWindow       | 1s      | must be at least twice memorySampleInterval (2s), got 1s
            """)
    void refusesValuesOutsideTheirRangeNamingKeyAndLine(String key, String value, String problem) {
        String yaml = "transport: auto\n" + key + ": " + value + "\n";

        assertThatThrownBy(() -> donor(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage("donor.yaml:2:1: " + key + ": " + problem);
    }

    @Test
    void validateReportsOverridesWithoutAFile() {
        DonorConfig overridden = DonorConfig.defaults().withEwmaWeight(1.5);

        assertThatThrownBy(overridden::validate)
                .isInstanceOfSatisfying(ConfigProblem.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("ewmaWeight");
                    assertThat(e.problem()).isEqualTo("must be greater than 0 and at most 1, got 1.5");
                })
                .hasMessage("ewmaWeight: must be greater than 0 and at most 1, got 1.5");
    }

    @Test
    void everyValueIsRequiredInCode() {
        assertThatThrownBy(() -> DonorConfig.defaults().withListen(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("listen");
    }
}
