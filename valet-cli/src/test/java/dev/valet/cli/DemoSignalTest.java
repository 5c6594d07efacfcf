package dev.valet.cli;

import dev.valet.common.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code valet demo} as its own process, stopped by SIGTERM half-way: it takes its donors and its secret along. */
class DemoSignalTest {
    private static final Pattern LOGS = Pattern.compile("starting 3 donors on \\S+ \\(logs in (\\S+)\\)");

    @TempDir
    Path dir;

    @Test
    void sigtermStopsEveryDonorAndDeletesTheFolderWithTheSecret() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path err = dir.resolve("demo.err");
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                ValetCommand.class.getName(), "demo", "--working-set", "2G", "--donor-memory", "2G", "--no-progress")
                .redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            Path logs = Await.value(() -> "the demo's line naming its folder; it said: " + read(err),
                    Duration.ofMinutes(2), () -> {
                        Matcher m = LOGS.matcher(read(err));
                        return m.find() ? Path.of(m.group(1)) : null;
                    });
            assertThat(logs).startsWith(tmp);
            Await.until("three donors listening", Duration.ofMinutes(4), () -> Stream.of(0, 1, 2)
                    .allMatch(i -> Files.exists(logs.resolve("donor-" + i + ".ready"))));
            assertThat(logs.resolve("cluster.secret")).exists();
            List<ProcessHandle> donors = demo.descendants().toList();
            assertThat(donors).hasSize(3);

            demo.destroy(); // SIGTERM
            assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("demo exited").isTrue();

            for (ProcessHandle donor : donors) {
                Await.until("donor " + donor.pid() + " gone", Duration.ofSeconds(30), () -> !donor.isAlive());
            }
            assertThat(logs).doesNotExist();
            try (Stream<Path> left = Files.list(tmp)) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("valet-"));
            }
            assertThat(read(err)).contains("stopped: 3 donors stopped, " + logs + " deleted");
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
