package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Keys set over a file by command-line flags ({@link ConfigOverride}): read and checked as the file's own keys are,
 * and reported against the flag.
 */
class ConfigOverrideTest {

    @TempDir
    Path directory;

    private static DonorConfig donor(String yaml, ConfigOverride... flags) {
        return ConfigLoader.parse("donor.yaml", yaml, DonorConfig.class, List.of(flags));
    }

    private static ClientConfig client(String yaml, ConfigOverride... flags) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class, List.of(flags));
    }

    private static ConfigOverride flag(String flag, String keyPath, Object value) {
        return new ConfigOverride(keyPath, value, flag);
    }

    @Test
    void aFlagWinsOverTheFileAndTheFileKeepsTheRest() {
        DonorConfig config = donor("memory: 2G\nlockMemory: false\nheadroom:\n  victim: oldest\n",
                flag("--memory", "memory", "8G"), flag("--evict-below", "headroom.evictBelow", "256M"));

        assertThat(config.memory()).hasToString("8G");
        assertThat(config.lockMemory()).isFalse();
        assertThat(config.headroom().victim()).isEqualTo(VictimPolicy.OLDEST);
        assertThat(config.headroom().evictBelow()).hasToString("256M");
    }

    @Test
    void aBadFlagValueIsReportedAgainstTheFlag() {
        assertThatThrownBy(() -> donor("memory: 2G\n", flag("--memory", "memory", "lots")))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.source()).isEqualTo("--memory");
                    assertThat(e.line()).isZero();
                    assertThat(e.keyPath()).isEqualTo("memory");
                })
                .hasMessage("--memory: memory: bad size 'lots' (expected a size like 4096, 64K, 512M or 8G)");
        assertThatThrownBy(() -> donor("", flag("--max-frame", "maxFrameBytes", ByteSize.ofKibibytes(1))))
                .hasMessage("--max-frame: maxFrameBytes: must be between 64K and 64M, got 1K");
        assertThatThrownBy(() -> donor("", flag("--max-clients", "limits.maxClients", "1.5")))
                .hasMessage("--max-clients: limits.maxClients: expected a whole number, got 1.5");
        assertThatThrownBy(() -> donor("", flag("--lock", "lockMemory", "maybe")))
                .hasMessage("--lock: lockMemory: expected true or false, got 'maybe'");
    }

    @Test
    void aRuleBrokenByAFlagAndAFileKeyBlamesTheKeyItReports() {
        assertThatThrownBy(() -> client("failover:\n  heartbeatInterval: 1s\n",
                flag("--donor-timeout", "failover.donorTimeout", "1s")))
                .hasMessage("--donor-timeout: failover.donorTimeout: must be at least twice heartbeatInterval (2s)"
                        + " and at most 1h, got 1s");
        assertThatThrownBy(() -> client("failover:\n  donorTimeout: 1s\n",
                flag("--heartbeat", "failover.heartbeatInterval", "1s")))
                .hasMessage("valet.yaml:2:3: failover.donorTimeout: must be at least twice heartbeatInterval (2s)"
                        + " and at most 1h, got 1s");
    }

    @Test
    void aRuleBrokenByADefaultWithoutAFileSaysSo() {
        assertThatThrownBy(() -> client("", flag("--heartbeat", "failover.heartbeatInterval", "2s")))
                .hasMessage("valet.yaml: failover.donorTimeout: must be at least twice heartbeatInterval (4s) and at"
                        + " most 1h, got 3s (failover.donorTimeout is not set, so its default applies)");
    }

    @Test
    void anUnknownKeyIsReportedAgainstTheFlagThatSetIt() {
        assertThatThrownBy(() -> donor("memory: 2G\n", flag("--x", "memroy", "8G")))
                .hasMessageStartingWith("--x: memroy: unknown key 'memroy' (did you mean 'memory'?); valid keys:"
                        + " listen, memory,");
    }

    @Test
    void textIsReadAsAYamlScalarOfTheKeysType() {
        ClientConfig config = client("", flag("--identity", "identity", "007"),
                flag("--pages", "maxPagesPerFrame", "0x40"), flag("--backup", "backupDisk", "disk #1: a"));

        assertThat(config.identity()).isEqualTo("007");
        assertThat(config.maxPagesPerFrame()).isEqualTo(64);
        assertThat(config.backupDisk()).isEqualTo("disk #1: a");
        assertThat(donor("", flag("--lock", "lockMemory", "false")).lockMemory()).isFalse();
        assertThat(donor("", flag("--ewma", "ewmaWeight", "1")).ewmaWeight()).isEqualTo(1.0);
    }

    @Test
    void theFilesValuesAreReadAsWritten() {
        assertThat(client("identity: 007\n").identity()).isEqualTo("007");
        assertThat(client("identity: yes\n").identity()).isEqualTo("yes");
        assertThat(client("backupDisk: 1.50\n").backupDisk()).isEqualTo("1.50");
        assertThatThrownBy(() -> donor("memory: 0x1000\n"))
                .hasMessage("donor.yaml:1:1: memory: bad size '0x1000' (expected a size like 4096, 64K, 512M or 8G)");
        assertThat(client("maxPagesPerFrame: 0x40\n").maxPagesPerFrame()).isEqualTo(64);
    }

    @Test
    void theListenAddressMayAskForAnyFreePort() {
        assertThat(donor("listen: 127.0.0.1:0\n").listen()).isEqualTo(DonorAddress.parseListen("127.0.0.1:0"));
        assertThat(donor("", flag("--listen", "listen", "[::1]:0")).listen()).hasToString("[::1]:0");
        assertThatThrownBy(() -> donor("listen: 127.0.0.1:65536\n"))
                .hasMessage("donor.yaml:1:1: listen: bad port '65536' in '127.0.0.1:65536' (expected 0-65535)");
    }

    @Test
    void aFlagsPathIsNotRelativeToTheFile() throws IOException {
        Path etc = Files.createDirectories(directory.resolve("etc"));
        Path file = Files.writeString(etc.resolve("valet.yaml"), "backupDisk: backup.img\n");

        ClientConfig fromFile = ConfigLoader.load(file, ClientConfig.class);
        ClientConfig flagged = ConfigLoader.load(file, ClientConfig.class,
                List.of(flag("--portal", "portalList", Path.of("donors.list"))));

        assertThat(fromFile.portalList()).isEqualTo(etc.resolve("portal.list"));
        assertThat(fromFile.backupDisk()).isEqualTo(etc.resolve("backup.img").toString());
        assertThat(flagged.portalList()).isEqualTo(Path.of("donors.list"));
        assertThat(flagged.backupDisk()).isEqualTo(etc.resolve("backup.img").toString());
    }

    @Test
    void aKeyWithoutValueInTheFileIsRefusedEvenWhenAFlagSetsIt() {
        assertThatThrownBy(() -> donor("memory:\n", flag("--memory", "memory", "8G")))
                .hasMessage("donor.yaml:1:1: memory: no value given (write a value, or remove the key to use the"
                        + " default)");
    }

    @Test
    void overridingALoadedConfigurationChecksItAgain() {
        DonorConfig loaded = donor("memory: 2G\n");

        assertThat(ConfigLoader.override(loaded, ConfigOverride.of("lockMemory", false)))
                .isEqualTo(donor("memory: 2G\nlockMemory: false\n"));
        assertThatThrownBy(() -> ConfigLoader.override(loaded, ConfigOverride.of("ewmaWeight", 2.0)))
                .hasMessage("override: ewmaWeight: must be greater than 0 and at most 1, got 2.0");
    }

    @Test
    void defaultsAreGivenInYamlSyntax() {
        assertThat(ConfigLoader.defaultText(DonorConfig.class, "memory")).contains("1G");
        assertThat(ConfigLoader.defaultText(DonorConfig.class, "headroom.victim")).contains("least-active");
        assertThat(ConfigLoader.defaultText(ClientConfig.class, "failover.donorTimeout")).contains("3s");
        assertThat(ConfigLoader.defaultText(ClientConfig.class, "portalList")).contains("portal.list");
        assertThat(ConfigLoader.defaultText(ClientConfig.class, "failover.deadAfter")).isEmpty();
        assertThat(ConfigLoader.defaultText(ClientConfig.class, "placement")).isEmpty();
        assertThatThrownBy(() -> ConfigLoader.defaultText(DonorConfig.class, "memroy"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("DonorConfig has no key memroy");
    }

    @Test
    void bindingTheDefaultsGivesTheDefaults() {
        assertThat(ConfigLoader.override(DonorConfig.defaults())).isEqualTo(DonorConfig.defaults());
        assertThat(ConfigLoader.override(ClientConfig.defaults())).isEqualTo(ClientConfig.defaults());
        assertThat(ConfigLoader.override(ClientConfig.defaults()).failover().deadAfter())
                .isEqualTo(Duration.ofSeconds(60));
    }
}
