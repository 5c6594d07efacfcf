package dev.valet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code valet client} up to the point where it would lock memory and talk to the kernel: help and bad input.
 * Serving a device needs valet.ko, which the VM lab has (setup/vm/).
 */
class ClientCommandTest {
    @TempDir
    Path dir;

    @Test
    void helpNamesEveryOption() {
        CliRun r = CliRun.of("client", "--help");

        assertThat(r.exit()).isZero();
        for (String option : List.of("--config", "--portal", "--identity", "--ready-file", "--require-mlock")) {
            assertThat(r.out()).contains(option);
        }
        assertThat(r.out()).contains("/dev/valetN").contains("SIGTERM");
    }

    @Test
    void badDeviceSettingIsBadInputNamingTheKey() throws Exception {
        Path yaml = Files.writeString(dir.resolve("valet.yaml"), "device:\n  queueDepth: 5000\n");

        CliRun r = CliRun.of("client", "--config", yaml.toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(yaml + ":2:3: device.queueDepth: must be between 1 and 4096, got 5000");
    }

    @Test
    void missingPortalListIsBadInput() throws Exception {
        Path yaml = Files.writeString(dir.resolve("valet.yaml"), "portalList: nowhere.list\n");

        CliRun r = CliRun.of("client", "--config", yaml.toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("nowhere.list");
    }
}
