package dev.valet.cli;

import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code valet check} as its own process against real donors, one of which dies while it runs. */
class CheckCommandTest {
    private static final Pattern SUMMARY = Pattern.compile(
            "check: donors=2 pages=(\\d+) verified=(\\d+) mismatches=0 failed_requests=(\\d+) .*");

    @TempDir
    Path dir;

    @Test
    void aDonorKilledMidCheckStillGetsTheSummaryLineAndExitOne() throws Exception {
        Path out = dir.resolve("check.out");
        Path err = dir.resolve("check.err");
        try (DonorProcess a = DonorProcess.start(dir, "a", "memory: 512M\nlockMemory: false\n");
             DonorProcess b = DonorProcess.start(dir, "b", "memory: 512M\nlockMemory: false\n")) {
            Path portal = Files.writeString(dir.resolve("portal.list"), "2\n" + a.address() + "\n" + b.address()
                    + "\n");
            // 40 rounds of 50,000 pages: far longer than it takes to see the check connected and kill b.
            Process check = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), ValetCommand.class.getName(), "check",
                    "--portal", portal.toString(), "--pages", "50000", "--slab-size", "4M", "--rounds", "40",
                    "--no-progress")
                    .directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try {
                Await.until("the check connected to donor b", Duration.ofMinutes(2),
                        () -> read(b.log()).contains("connected from"));
                b.kill();

                assertThat(check.waitFor(5, TimeUnit.MINUTES)).as("check finished").isTrue();
                String said = read(out);
                Matcher m = SUMMARY.matcher(said);
                assertThat(m.find()).as("the summary line in: " + said + "\nstderr: " + read(err)).isTrue();
                assertThat(Long.parseLong(m.group(1))).isEqualTo(50_000);
                assertThat(Long.parseLong(m.group(2))).isLessThan(50_000);
                assertThat(Long.parseLong(m.group(3))).isPositive();
                assertThat(check.exitValue()).isEqualTo(1);
                assertThat(read(err)).doesNotContain("CompletionException");
            } finally {
                check.destroyForcibly();
            }
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
