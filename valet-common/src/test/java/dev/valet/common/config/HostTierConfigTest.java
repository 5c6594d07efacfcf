package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code hostTier:} section of valet.yaml, read through the loader. */
class HostTierConfigTest {

    private static ClientConfig client(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class);
    }

    private static HostTierConfig tier(String yaml) {
        return client(yaml).hostTier();
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        HostTierConfig defaults = HostTierConfig.DEFAULTS;

        assertThat(defaults.size()).isEqualTo(ByteSize.ofMebibytes(64));
        assertThat(defaults.enabled()).isTrue();
        assertThat(defaults.flushBatch()).isEqualTo(128);
        assertThat(defaults.maxFlushing()).isEqualTo(256);
        assertThat(defaults.prefetch()).isEqualTo(new PrefetchConfig(true, 8, 32));
        assertThatCode(defaults::validate).doesNotThrowAnyException();
        assertThat(client("transport: auto\n").hostTier()).isEqualTo(defaults);
    }

    @Test
    void readsEveryKey() {
        assertThat(tier("""
                hostTier:
                  size: 32M
                  flushBatch: 64
                  maxFlushing: 1024
                  prefetch:
                    enabled: false
                    window: 16
                    maxPages: 8
                """)).isEqualTo(new HostTierConfig(ByteSize.ofMebibytes(32), 64, 1024,
                        new PrefetchConfig(false, 16, 8)));
    }

    @Test
    void sizeZeroTurnsTheTierOff() {
        HostTierConfig off = tier("hostTier:\n  size: 0\n");

        assertThat(off.enabled()).isFalse();
        assertThat(off).isEqualTo(new HostTierConfig(ByteSize.ofBytes(0), 128, 256, PrefetchConfig.DEFAULTS));
    }

    @Test
    void absentKeysInTheSectionTakeTheirDefaults() {
        assertThat(tier("hostTier:\n  prefetch:\n    window: 4\n")).isEqualTo(new HostTierConfig(
                ByteSize.ofMebibytes(64), 128, 256, new PrefetchConfig(true, 4, 32)));
        assertThat(tier("hostTier:\n  size: 64M\n")).isEqualTo(new HostTierConfig(
                ByteSize.ofMebibytes(64), 128, 256, PrefetchConfig.DEFAULTS));
        assertThat(tier("hostTier: {}\n")).isEqualTo(HostTierConfig.DEFAULTS);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            size: 512K         | hostTier.size: must be 0 (off) or between 1M and 1G, got 512K
            size: 2G           | hostTier.size: must be 0 (off) or between 1M and 1G, got 2G
            size: 1048577      | hostTier.size: must be a multiple of 4K (4096 bytes), got 1048577
            size: big          | hostTier.size: bad size 'big' (expected a size like 4096, 64K, 512M or 8G)
            flushBatch: 0      | hostTier.flushBatch: must be between 1 and 1024, got 0
            flushBatch: 1025   | hostTier.flushBatch: must be between 1 and 1024, got 1025
            maxFlushing: 0     | hostTier.maxFlushing: must be between 1 and 65536, got 0
            maxFlushing: 65537 | hostTier.maxFlushing: must be between 1 and 65536, got 65537
            """)
    void refusesBadValuesAtTheirLine(String line, String message) {
        assertThatThrownBy(() -> client("transport: auto\nhostTier:\n  " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:3:3: " + message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            window: 1       | hostTier.prefetch.window: must be between 2 and 64, got 1
            window: 65      | hostTier.prefetch.window: must be between 2 and 64, got 65
            maxPages: 0     | hostTier.prefetch.maxPages: must be between 1 and 1024, got 0
            maxPages: 1025  | hostTier.prefetch.maxPages: must be between 1 and 1024, got 1025
            enabled: maybe  | hostTier.prefetch.enabled: expected true or false, got 'maybe'
            """)
    void refusesBadPrefetchValuesAtTheirLine(String line, String message) {
        assertThatThrownBy(() -> client("hostTier:\n  prefetch:\n    " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:3:5: " + message);
    }

    @Test
    void acceptsTheEdgesOfEachRange() {
        assertThat(tier("hostTier:\n  size: 1M\n  flushBatch: 1\n  maxFlushing: 1\n  prefetch:\n    window: 2\n"
                + "    maxPages: 1\n"))
                .isEqualTo(new HostTierConfig(ByteSize.ofMebibytes(1), 1, 1, new PrefetchConfig(true, 2, 1)));
        assertThat(tier("hostTier:\n  size: 1G\n  flushBatch: 1024\n  maxFlushing: 65536\n  prefetch:\n"
                + "    window: 64\n    maxPages: 1024\n"))
                .isEqualTo(new HostTierConfig(ByteSize.ofGibibytes(1), 1024, 65536,
                        new PrefetchConfig(true, 64, 1024)));
    }

    @Test
    void unknownKeyInHostTierListsItsKeys() {
        assertThatThrownBy(() -> client("hostTier:\n  size: 8M\n  flushbatch: 5\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("hostTier.flushbatch");
                    assertThat(e.line()).isEqualTo(3);
                })
                .hasMessage("valet.yaml:3:3: hostTier.flushbatch: unknown key 'flushbatch' (did you mean"
                        + " 'flushBatch'?); valid keys: size, flushBatch, maxFlushing, prefetch");
    }

    @Test
    void overridesChangeOneKey() {
        HostTierConfig d = HostTierConfig.DEFAULTS;

        assertThat(ConfigLoader.override(ClientConfig.defaults(), ConfigOverride.of("hostTier.size", "0")).hostTier())
                .isEqualTo(new HostTierConfig(ByteSize.ofBytes(0), d.flushBatch(), d.maxFlushing(), d.prefetch()));
        assertThat(ConfigLoader.override(d, ConfigOverride.of("prefetch.maxPages", 64)))
                .isEqualTo(new HostTierConfig(d.size(), d.flushBatch(), d.maxFlushing(),
                        new PrefetchConfig(true, 8, 64)));
    }
}
