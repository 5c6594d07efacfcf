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
        for (String option : List.of("--config", "--portal", "--identity", "--ready-file", "--require-mlock",
                "--nbd")) {
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

    @Test
    void nbdOnAnAddressThatIsNotLoopbackIsBadInputNamingTheKey() {
        CliRun r = CliRun.of("client", "--nbd", "tcp:10.1.2.3:10809");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("nbd.listen: refusing to serve NBD on 10.1.2.3:10809")
                .contains("nbd.allowInsecure");
    }

    @Test
    void nbdEndpointThatIsNeitherUnixNorTcpIsBadInput() {
        CliRun r = CliRun.of("client", "--nbd", "/run/valet/nbd.sock");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("nbd.listen: '/run/valet/nbd.sock' is neither unix:/path nor tcp:host:port");
    }
}
