package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

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
                TlsConfig.DEFAULTS, LimitsConfig.DEFAULTS, MetricsConfig.DEFAULTS));
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
        assertThat(donor("headroom:\n  victim: oldest\n").headroom()).isEqualTo(new HeadroomConfig(
                ByteSize.ofMebibytes(512), ByteSize.ofGibibytes(1), VictimPolicy.OLDEST, Duration.ofSeconds(30)));
    }

    @Test
    void sizeMayBeAYamlInteger() {
        assertThat(donor("memory: 1073741824\n").memory()).isEqualTo(ByteSize.parse("1G"));
    }

    @Test
    void overridesChangeOneKey() {
        DonorConfig defaults = DonorConfig.defaults();
        DonorAddress listen = DonorAddress.parse("0.0.0.0:9999");

        assertThat(override(defaults, "listen", listen)).isEqualTo(new DonorConfig(listen, defaults.memory(),
                defaults.maxFrameBytes(), defaults.maxSlabBytes(), defaults.lockMemory(),
                defaults.memorySampleInterval(), defaults.ewmaWeight(), defaults.gradientWindow(),
                defaults.transport(), defaults.headroom(), defaults.auth(), defaults.tls(), defaults.limits(),
                defaults.metrics()));
        assertThat(override(defaults, "memory", "8G").memory()).hasToString("8G");
        assertThat(override(defaults, "maxFrameBytes", "2M").maxFrameBytes()).hasToString("2M");
        assertThat(override(defaults, "maxSlabBytes", ByteSize.parse("64M")).maxSlabBytes()).hasToString("64M");
        assertThat(override(defaults, "lockMemory", false).lockMemory()).isFalse();
        assertThat(override(defaults, "memorySampleInterval", "100ms").memorySampleInterval())
                .isEqualTo(Duration.ofMillis(100));
        assertThat(override(defaults, "ewmaWeight", "0.5").ewmaWeight()).isEqualTo(0.5);
        assertThat(override(defaults, "gradientWindow", Duration.ofSeconds(30)).gradientWindow())
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(override(defaults, "transport", "rdma").transport()).isEqualTo(TransportChoice.RDMA);
        ConfigOverride memory = ConfigOverride.of("memory", "8G");
        ConfigOverride listening = ConfigOverride.of("listen", listen);
        assertThat(ConfigLoader.override(defaults, memory, listening))
                .isEqualTo(ConfigLoader.override(defaults, listening, memory));
    }

    @Test
    void flagsOverrideTheFile() {
        String file = "listen: 0.0.0.0:7070\nmemory: 2G\nlockMemory: false\n";
        DonorConfig effective = ConfigLoader.parse("donor.yaml", file, DonorConfig.class, List.of(
                new ConfigOverride("listen", "0.0.0.0:9999", "--listen"),
                new ConfigOverride("memory", ByteSize.parse("8G"), "--memory")));

        assertThat(effective.listen()).hasToString("0.0.0.0:9999");
        assertThat(effective.memory()).hasToString("8G");
        assertThat(effective.lockMemory()).isFalse();
    }

    private static DonorConfig override(DonorConfig config, String keyPath, Object value) {
        return ConfigLoader.override(config, ConfigOverride.of(keyPath, value));
    }

    /** The defaults with this EWMA weight, not validated: for calling validate() itself. */
    private static DonorConfig defaultsWithEwmaWeight(double ewmaWeight) {
        DonorConfig d = DonorConfig.defaults();
        return new DonorConfig(d.listen(), d.memory(), d.maxFrameBytes(), d.maxSlabBytes(), d.lockMemory(),
                d.memorySampleInterval(), ewmaWeight, d.gradientWindow(), d.transport(), d.headroom(), d.auth(),
                d.tls(), d.limits(), d.metrics());
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
        DonorConfig overridden = defaultsWithEwmaWeight(1.5);

        assertThatThrownBy(overridden::validate)
                .isInstanceOfSatisfying(ConfigProblem.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("ewmaWeight");
                    assertThat(e.problem()).isEqualTo("must be greater than 0 and at most 1, got 1.5");
                })
                .hasMessage("ewmaWeight: must be greater than 0 and at most 1, got 1.5");
    }

    @Test
    void everyValueIsRequiredInCode() {
        DonorConfig d = DonorConfig.defaults();

        assertThatThrownBy(() -> new DonorConfig(null, d.memory(), d.maxFrameBytes(), d.maxSlabBytes(),
                d.lockMemory(), d.memorySampleInterval(), d.ewmaWeight(), d.gradientWindow(), d.transport(),
                d.headroom(), d.auth(), d.tls(), d.limits(), d.metrics()))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("listen");
    }
}
