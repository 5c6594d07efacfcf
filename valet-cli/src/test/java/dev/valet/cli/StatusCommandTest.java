package dev.valet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.client.engine.Engine;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.protocol.FrameHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code valet status} against two real donor processes and an address where nothing listens, and with a client
 * engine holding slabs on one of them.
 */
class StatusCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private DonorProcesses donors;
    private Path portal;

    @BeforeEach
    void startDonors() throws Exception {
        donors = DonorProcesses.start(dir, "s", 2);
        portal = donors.portal("127.0.0.1:1"); // port 1 on loopback: nothing listens there
    }

    @AfterEach
    void stopDonors() {
        donors.close();
    }

    @Test
    void tableShowsEachDonorWithoutCountingItselfAndADownDonorInOneLine() {
        CliRun r = CliRun.of("status", "--portal", portal.toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        String[] lines = r.out().split("\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).startsWith("DONOR").contains("CLIENTS").contains("RTT_us");
        for (int i = 0; i < 2; i++) {
            String[] cols = lines[i + 1].trim().split("\\s+");
            assertThat(cols[0]).isEqualTo(donors.get(i).address().toString());
            assertThat(cols[1]).as("LIMIT").isEqualTo("64M");
            assertThat(cols[7]).as("CLIENTS, this command not counted").isEqualTo("0");
        }
        assertThat(lines[3]).isEqualTo("127.0.0.1:1              DOWN: connection refused (no donor listening there)");
        assertThat(r.out()).doesNotContain("netty").doesNotContain("Exception").doesNotContain("finishConnect");
    }

    @Test
    void jsonNamesEveryDonorWithItsStats() throws Exception {
        CliRun r = CliRun.of("status", "--portal", portal.toString(), "--json");

        assertThat(r.exit()).isEqualTo(1);
        JsonNode doc = JSON.readTree(r.out());
        assertThat(doc.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        JsonNode list = doc.get("donors");
        assertThat(list).hasSize(3);
        assertThat(list.get(0).get("donor").asText()).isEqualTo(donors.get(0).address().toString());
        assertThat(list.get(0).get("up").asBoolean()).isTrue();
        assertThat(list.get(0).get("otherClients").asInt()).isZero();
        assertThat(list.get(0).get("stats").get("lendLimitBytes").asLong()).isEqualTo(64L << 20);
        assertThat(list.get(0).get("stats").get("lentBytes").asLong()).isZero();
        assertThat(list.get(2).get("up").asBoolean()).isFalse();
        assertThat(list.get(2).get("reason").asText()).isEqualTo("connection refused (no donor listening there)");
        assertThat(list.get(2).get("stats").isNull()).isTrue();
    }

    @Test
    void eachClientsShareIsShownUnderItsDonorInTheTableAndTheJson() throws Exception {
        try (Engine engine = Engine.start(ConfigLoader.parse("status-share", """
                identity: share-holder
                swapSpace: 4M
                slabSize: 1M
                placement:
                  numReplica: 1
                """, ClientConfig.class), List.of(donors.get(0).address()))) {
            DonorProcesses.writeZeros(engine, 0, 1);
            DonorProcesses.writeZeros(engine, (2L << 20) / FrameHeader.PAGE_SIZE, 1);

            CliRun table = CliRun.of("status", "--portal", portal.toString());
            List<String> lines = table.out().lines().toList();
            int first = lines.indexOf(lines.stream().filter(l -> l.startsWith(donors.get(0).address().toString()))
                    .findFirst().orElseThrow());
            assertThat(lines.get(first + 1).trim().split("\\s+")).as(table.out())
                    .containsExactly("client", "share-holder", "2M", "2", "slabs");
            assertThat(lines.get(first + 2)).as("the next donor, nobody's slabs on it")
                    .startsWith(donors.get(1).address().toString());

            JsonNode doc = JSON.readTree(CliRun.of("status", "--portal", portal.toString(), "--json").out());
            JsonNode shares = doc.get("donors").get(0).get("shares");
            assertThat(shares.get("identityCount").asInt()).isEqualTo(1);
            assertThat(shares.get("shares")).hasSize(1);
            assertThat(shares.get("shares").get(0).get("identity").asText()).isEqualTo("share-holder");
            assertThat(shares.get("shares").get(0).get("slabs").asInt()).isEqualTo(2);
            assertThat(shares.get("shares").get(0).get("bytes").asLong()).isEqualTo(2L << 20);
            assertThat(doc.get("donors").get(1).get("shares").get("shares")).isEmpty();
            assertThat(doc.get("donors").get(2).get("shares").isNull()).as("a donor that is down").isTrue();
        }
    }

    @Test
    void watchRepeatsWithATimeEachRound() throws Exception {
        CliRun table = CliRun.of("status", "--portal", portal.toString(), "--watch", "1", "--rounds", "2");
        assertThat(table.out().lines().filter(l -> l.matches("-- \\d{4}-\\d\\d-\\d\\dT.*Z"))).hasSize(2);
        assertThat(table.out().lines().filter(l -> l.startsWith("DONOR"))).hasSize(2);

        CliRun json = CliRun.of("status", "--portal", portal.toString(), "--watch", "1", "--rounds", "2", "--json");
        List<String> rounds = json.out().lines().toList();
        assertThat(rounds).hasSize(2);
        for (String round : rounds) {
            assertThat(JSON.readTree(round).get("donors")).hasSize(3);
        }
    }

    @Test
    void watchOfZeroSecondsIsBadInput() {
        CliRun r = CliRun.of("status", "--portal", portal.toString(), "--watch", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--watch: must be at least 1 second, got 0");
    }
}
