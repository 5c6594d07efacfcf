package dev.valet.cli;

import dev.valet.common.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code valet demo} as its own process, stopped by SIGTERM: it takes its donors, also one still starting, and its
 * secret along. What is left is judged from /proc: no process on the machine names the donors' folder.
 */
class DemoSignalTest {
    private static final Pattern LOGS = Pattern.compile("starting 3 donors on \\S+ \\(logs in (\\S+)\\)");

    @TempDir
    Path dir;

    @Test
    void sigtermStopsEveryDonorAndDeletesTheFolderWithTheSecret() throws Exception {
        Process demo = startDemo();
        try {
            Path logs = awaitFolder(demo);
            Await.until("three donors listening", Duration.ofMinutes(4), () -> Stream.of(0, 1, 2)
                    .allMatch(i -> Files.exists(logs.resolve("donor-" + i + ".ready"))));
            assertThat(logs.resolve("cluster.secret")).exists();
            assertThat(demo.descendants().toList()).hasSize(3);

            stopAndCheck(demo, logs);
            assertThat(read(err())).contains("stopped: 3 donors stopped, " + logs + " deleted");
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }

    /**
     * SIGTERM the moment the first donor says it listens (inotify), while the demo starts the others: whether or not
     * the demo has yet seen that donor's ready file (it looks every 20 ms; on a loaded machine CI once caught it
     * not having seen it, and the donor outlived the demo), no donor survives and none is started after.
     */
    @Test
    void sigtermTheMomentTheFirstDonorListensStopsItToo() throws Exception {
        Process demo = startDemo();
        try {
            Path logs = awaitFolder(demo);
            try (WatchService watch = logs.getFileSystem().newWatchService()) {
                logs.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
                Await.until("donor 0 listening", Duration.ofMinutes(4),
                        () -> Files.exists(logs.resolve("donor-0.ready")) || created(watch, "donor-0.ready"));
            }
            stopAndCheck(demo, logs);
            assertThat(read(err())).contains("stopped: ", logs + " deleted");
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }

    private static boolean created(WatchService watch, String file) {
        try {
            WatchKey key = watch.poll(100, TimeUnit.MILLISECONDS);
            if (key == null) {
                return false;
            }
            boolean seen = key.pollEvents().stream().anyMatch(e -> e.context().toString().equals(file));
            key.reset();
            return seen;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Path err() {
        return dir.resolve("demo.err");
    }

    private Path tmp() {
        return dir.resolve("tmp");
    }

    private Process startDemo() throws IOException {
        Files.createDirectories(tmp());
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp(), "-cp", System.getProperty("java.class.path"),
                ValetCommand.class.getName(), "demo", "--working-set", "2G", "--donor-memory", "2G", "--no-progress")
                .directory(dir.toFile()) // jffi leaves an empty stub in the working folder of a JVM stopped starting
                .redirectErrorStream(true).redirectOutput(err().toFile()).start();
    }

    private Path awaitFolder(Process demo) throws Exception {
        Path logs = Await.value(() -> "the demo's line naming its folder; it said: " + read(err()),
                Duration.ofMinutes(2), () -> {
                    Matcher m = LOGS.matcher(read(err()));
                    return m.find() ? Path.of(m.group(1)) : null;
                });
        assertThat(logs).startsWith(tmp());
        assertThat(demo.isAlive()).as("demo running").isTrue();
        return logs;
    }

    /** SIGTERM; the demo exits, no process names its folder, the folder and any other valet-* folder are gone. */
    private void stopAndCheck(Process demo, Path logs) throws Exception {
        demo.destroy();
        assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("demo exited; it said: %s", read(err())).isTrue();
        Await.until(() -> "no process naming " + logs + ", left: " + processesNaming(logs) + "; the demo said: "
                + read(err()), Duration.ofSeconds(30), () -> processesNaming(logs).isEmpty());
        assertThat(logs).doesNotExist();
        try (Stream<Path> left = Files.list(tmp())) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("valet-"));
        }
    }

    /**
     * Processes whose command line names {@code folder}, read from /proc/PID/cmdline in full: ProcessHandle.Info
     * gives no arguments for a command line longer than a page, as a donor's (its class path) is.
     */
    private static List<Long> processesNaming(Path folder) {
        try (Stream<Path> proc = Files.list(Path.of("/proc"))) {
            return proc.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> read(p.resolve("cmdline")).contains(folder.toString()))
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return ""; // not written yet, the process is gone, or not UTF-8
        }
    }
}
