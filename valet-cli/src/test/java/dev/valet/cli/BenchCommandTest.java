package dev.valet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code valet bench} end to end on tiny parameters: it runs every case, reports it, and writes sound JSON. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void tinyBenchRunsEveryCaseCleanlyAndWritesJson() throws Exception {
        Path json = dir.resolve("bench.json");
        CliRun r = run("bench", "--donors", "2", "--donor-memory", "256M", "--span", "8M", "--ops", "300",
                "--warmup-ops", "50", "--duration", "30s", "--patterns", "seq,rand", "--io", "write,read",
                "--depths", "1,4", "--replicas", "1,2", "--json", json.toString(), "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("pattern", "ops/s", "p99.9_us", "engine vs bare transport", "alloc_B",
                "client_us", "donors_us", "valet-client-io");

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.path("clean").asBoolean()).isTrue();
        assertThat(root.path("machine").path("cores").asInt()).isPositive();
        assertThat(root.path("machine").path("javaVersion").asText()).isNotBlank();
        assertThat(root.path("config").path("opsPerCase").asLong()).isEqualTo(300);

        JsonNode cases = root.path("cases");
        assertThat(cases.size()).isEqualTo(2 * 2 * 2 * 2);
        Set<String> seen = new HashSet<>();
        for (JsonNode c : cases) {
            seen.add(c.path("pattern").asText() + "/" + c.path("op").asText() + "/" + c.path("depth").asInt() + "/"
                    + c.path("replicas").asInt());
            assertSound(c);
        }
        assertThat(seen).hasSize(16);

        // The bare reference is measured alongside every depth-1 engine case, and gives it a ratio.
        JsonNode reference = root.path("reference");
        assertThat(reference.size()).isEqualTo(2 * 2 * 2);
        for (JsonNode c : reference) {
            assertThat(c.path("depth").asInt()).isEqualTo(1);
            assertThat(c.path("interleavedWith").asText()).startsWith("engine r");
            assertSound(c);
        }
        assertThat(root.path("ratios").size()).isEqualTo(2 * 2 * 2);
        for (JsonNode x : root.path("ratios")) {
            assertThat(x.path("opsPerSecond").asDouble()).isPositive();
        }
        assertThat(root.path("prefill").size()).isEqualTo(3);
        for (JsonNode p : root.path("prefill")) {
            assertThat(p.path("errors").asLong()).isZero();
            assertThat(p.path("pages").asLong()).isEqualTo(8L * 1024 * 1024 / 4096);
        }
    }

    /** With encryption off and on, every case runs twice in the same run, and the table sets them side by side. */
    @Test
    void encryptionOnAndOffInTheSameRun() throws Exception {
        Path json = dir.resolve("bench-crypt.json");
        CliRun r = run("bench", "--donors", "2", "--donor-memory", "256M", "--span", "8M", "--ops", "300",
                "--warmup-ops", "50", "--duration", "30s", "--patterns", "rand", "--io", "write,read",
                "--depths", "1", "--replicas", "2", "--encryption", "off,aes-256-gcm", "--json", json.toString(),
                "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("encryption: aes-256-gcm vs off, same run", "ops/s_off", "ops/s_on",
                "2+aes");

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.path("clean").asBoolean()).isTrue();
        Set<String> targets = new HashSet<>();
        for (JsonNode c : root.path("cases")) {
            targets.add(c.path("target").asText() + "/" + c.path("op").asText());
            assertSound(c);
        }
        assertThat(targets).containsExactlyInAnyOrder("engine/write", "engine/read", "engine aes-256-gcm/write",
                "engine aes-256-gcm/read");
        // The bare reference runs beside the engines in clear only: one ratio per case.
        assertThat(root.path("ratios").size()).isEqualTo(2);
        assertThat(run("bench", "--encryption", "rot13").err()).contains("--encryption: unknown encryption mode"
                + " 'rot13' (expected one of off, aes-256-gcm)");
    }

    private static void assertSound(JsonNode c) {
        String what = c.toString();
        assertThat(c.path("ops").asLong()).as(what).isEqualTo(300);
        assertThat(c.path("errors").asLong()).as(what).isZero();
        assertThat(c.path("opsPerSecond").asDouble()).as(what).isPositive();
        long p50 = c.path("p50Us").asLong();
        long p99 = c.path("p99Us").asLong();
        long p999 = c.path("p999Us").asLong();
        assertThat(p50).as(what).isLessThanOrEqualTo(p99);
        assertThat(p99).as(what).isLessThanOrEqualTo(p999);
        assertThat(p999).as(what).isLessThanOrEqualTo(c.path("maxUs").asLong());
        // Issue 13's instruments: what an operation cost the client's threads and the donors.
        JsonNode costs = c.path("costs");
        assertThat(c.path("allocated_bytes_per_op").asDouble()).as(what).isPositive()
                .isEqualTo(costs.path("allocated_bytes_per_op").asDouble());
        // Process CPU (OperatingSystemMXBean) may advance in clock ticks: a case of a few milliseconds can read none.
        assertThat(costs.path("client_cpu_us_per_op").asDouble()).as(what).isNotNegative();
        assertThat(costs.path("client_thread_cpu_us_per_op").asDouble()).as(what).isPositive();
        assertThat(costs.has("donor_cpu_us_per_op")).as(what).isTrue();
        assertThat(costs.path("client_switches_per_op").asDouble()).as(what).isPositive();
        assertThat(costs.has("donor_switches_per_op")).as(what).isTrue();
        Set<String> groups = new HashSet<>();
        for (JsonNode g : costs.path("threads")) {
            groups.add(g.path("group").asText());
            assertThat(g.path("threads").asInt()).as(what).isPositive();
        }
        assertThat(groups).as(what).contains("valet-client-io");
    }

    @Test
    void replicasBeyondTheDonorsIsBadInput() {
        CliRun r = run("bench", "--donors", "1", "--replicas", "2", "--no-progress");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--replicas");
    }

    @Test
    void unknownPatternIsBadInput() {
        CliRun r = run("bench", "--patterns", "zigzag", "--no-progress");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--patterns");
    }
}
