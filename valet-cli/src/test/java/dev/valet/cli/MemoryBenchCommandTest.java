package dev.valet.cli;

import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code valet memory-bench} end to end on small parameters: real donors, every object verified, the one line. */
class MemoryBenchCommandTest {
    @TempDir
    Path dir;

    private static final Pattern LINE = Pattern.compile("memory-bench: objects=(\\d+) reads=(\\d+) writes=(\\d+)"
            + " verified=(\\d+) lost=(\\d+) read_p50_us=(\\d+) read_p99_us=(\\d+) write_p99_us=(\\d+)");

    @Test
    void aSmallBenchVerifiesEveryObjectAndEndsWithTheSummaryLine() {
        CliRun r = CliRun.of("memory-bench", "--donors", "2", "--donor-memory", "128M", "--slab-size", "1M",
                "--objects", "24", "--object-size", "300K", "--ops", "120", "--depth", "4", "--cache", "1M",
                "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        Matcher m = LINE.matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        assertThat(Long.parseLong(m.group(1))).isEqualTo(24);
        assertThat(Long.parseLong(m.group(2)) + Long.parseLong(m.group(3))).isEqualTo(120);
        assertThat(Long.parseLong(m.group(4))).isEqualTo(24);
        assertThat(Long.parseLong(m.group(5))).isZero();
        assertThat(Long.parseLong(m.group(7))).isGreaterThanOrEqualTo(Long.parseLong(m.group(6))).isPositive();
    }

    @Test
    void withConfigItUsesValetYamlsDonorsAndStartsNone() throws Exception {
        try (DonorProcess d0 = DonorProcess.start(dir, "m0", "memory: 128M\nlockMemory: false\n");
             DonorProcess d1 = DonorProcess.start(dir, "m1", "memory: 128M\nlockMemory: false\n")) {
            Files.write(dir.resolve("portal.list"), List.of("2", d0.address().toString(), d1.address().toString()));
            Path yaml = dir.resolve("valet.yaml");
            Files.writeString(yaml, """
                    identity: memory-bench-test
                    portalList: portal.list
                    swapSpace: 16M
                    slabSize: 1M
                    placement:
                      numReplica: 2
                    """);
            CliRun r = CliRun.of("memory-bench", "--config", yaml.toString(), "--objects", "20", "--object-size",
                    "200K", "--ops", "60", "--depth", "2", "--no-progress");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("objects=20", "verified=20", "lost=0");
            for (DonorProcess d : List.of(d0, d1)) {
                assertThat(Files.readString(d.log())).as("donor %s served the bench", d.address())
                        .contains("client 'memory-bench-test' connected");
            }
        }
    }

    @Test
    void aBadOptionIsNamedAndNothingStarts() {
        CliRun r = CliRun.of("memory-bench", "--objects", "4", "--depth", "8");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--depth must be 1 to 4");
        assertThat(r.err()).doesNotContain("starting");
    }
}
