package dev.valet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.client.engine.Engine;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code valet status --client}: a client engine over three real donor processes serves its control socket (the
 * same {@link ClientEndpoints} as {@code valet client}); the command reads its donors, slabs and copies from it.
 */
class StatusClientViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void showsTheDaemonsDonorsSlabsAndCopiesThroughItsControlSocket() throws Exception {
        Path socket = dir.resolve("run/client.sock");
        try (DonorProcesses donors = DonorProcesses.start(dir, "c", 3)) {
            ClientConfig config = ConfigLoader.parse("status-client", """
                    identity: status-client
                    swapSpace: 8M
                    slabSize: 1M
                    placement:
                      numReplica: 2
                    failover:
                      heartbeatInterval: 100ms
                      donorTimeout: 2s
                    control:
                      socket: %s
                    """.formatted(socket), ClientConfig.class);
            try (Engine engine = Engine.start(config, donors.addresses());
                 ClientEndpoints endpoints = ClientEndpoints.start(config, engine, null, null)) {
                assertThat(endpoints.url()).as("metrics.listen is off").isNull();
                assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString(
                        "rw-------"));
                DonorProcesses.writeZeros(engine, 0, 64);

                CliRun r = CliRun.of("status", "--client", socket.toString());
                assertThat(r.exit()).as(r.err()).isZero();
                List<String> lines = r.out().lines().toList();
                assertThat(lines.get(0)).startsWith("valet client 'status-client': 3/3 donors live, 1 slabs mapped,"
                        + " 0 degraded, 0 without a copy (2 copies each); repair queue 0;");
                assertThat(lines.get(1)).startsWith("DONOR").contains("MINE");
                List<String> holders = engine.slabMap().slabOf(0).replicas().stream()
                        .map(d -> d.address().toString()).toList();
                for (String holder : holders) {
                    assertThat(lines).anyMatch(l -> l.startsWith(holder) && l.contains(" live ")
                            && l.split("\\s+")[2].equals("1M"));
                }
                assertThat(lines.get(lines.size() - 1)).isEqualTo("0        ok        " + String.join(" ", holders));

                donors.at(holders.get(0)).kill();
                JsonNode doc = Await.value(() -> "the daemon reporting " + holders.get(0) + " dead (and the event) and"
                        + " slab 0 re-replicated", Duration.ofSeconds(30), () -> {
                            CliRun json = CliRun.of("status", "--client", socket.toString(), "--json");
                            JsonNode d = JSON.readTree(json.out());
                            boolean dead = false;
                            for (JsonNode donor : d.get("view").get("donors")) {
                                dead |= donor.get("donor").asText().equals(holders.get(0))
                                        && donor.get("state").asText().equals("dead");
                            }
                            // Events are noted by the view's sampler, once a second.
                            boolean noted = d.get("view").get("events").toString().contains("donor "
                                    + holders.get(0) + " died");
                            return dead && noted && d.get("engine").get("slabsRepaired").asLong() >= 1
                                    && d.get("engine").get("slabsDegraded").asInt() == 0 ? d : null;
                        });
                JsonNode slab = doc.get("view").get("slabs").get(0);
                assertThat(slab.get("copies")).hasSize(2);
                assertThat(slab.get("copies").toString()).doesNotContain(holders.get(0));
            }
            assertThat(socket).as("removed when the daemon stops").doesNotExist();
            CliRun gone = CliRun.of("status", "--client", socket.toString());
            assertThat(gone.exit()).isEqualTo(1);
            assertThat(gone.err()).contains(socket + " does not exist: is valet client running");
        }
    }
}
