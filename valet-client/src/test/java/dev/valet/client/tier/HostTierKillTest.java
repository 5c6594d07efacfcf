package dev.valet.client.tier;

import dev.valet.common.testing.Await;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A daemon SIGKILLed while it writes to the tier loses no acknowledged write: a child JVM ({@link TierCrashChild})
 * writes pages to a tier on a shared mapping of a file in /dev/shm and prints each acknowledgement; the test kills
 * it at a random moment ({@link Process#destroyForcibly}, SIGKILL on Linux), opens a tier on the same file in
 * front of a fake store (the real one needs donors), and finds every acknowledged page, served by the tier at once
 * and written out to the store in the background. Several rounds, each on what the last left.
 */
class HostTierKillTest {
    private static final int SLOTS = 256;
    private static final int PAGES = 64;
    private static final int ROUNDS = 3;

    private Path file;

    static HostTier.Settings settings(long pages) {
        return new HostTier.Settings(pages, 16, 16, false, 8, 8);
    }

    @AfterEach
    void removeFile() throws IOException {
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesASigkill() throws Exception {
        Path dir = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        file = Files.createTempFile(dir, "valet-tier-kill-", ".mem");
        int bytes = TierPages.memory(SLOTS).capacity();
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes); // zeros, as the driver allocates it
        }
        Random random = new Random();
        for (int round = 1; round <= ROUNDS; round++) {
            long firstValue = round * 1_000_000L;
            ConcurrentHashMap<Integer, Long> acked = new ConcurrentHashMap<>();
            AtomicLong ackCount = new AtomicLong();
            Process child = start(bytes, firstValue, acked, ackCount);
            long killAfter = 2000 + random.nextInt(20_000);
            try {
                Await.until(() -> "child acknowledging " + killAfter + " writes (got " + ackCount + ")",
                        Duration.ofSeconds(60), () -> ackCount.get() >= killAfter || !child.isAlive());
                assertThat(child.isAlive()).as("the child is still writing").isTrue();
            } finally {
                child.destroyForcibly();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);

            FakeBacking backing = new FakeBacking();
            ByteBuf memory = map(bytes);
            try (HostTier tier = HostTier.open(memory, backing, settings(PAGES))) {
                TierStats stats = tier.stats();
                System.out.printf("kill %d after %d acknowledged writes: %d dirty pages recovered%n", round,
                        ackCount.get(), stats.recoveredDirty());
                assertThat(stats.recoveredDirty()).isEqualTo(PAGES);
                assertThat(tier.awaitClean(Duration.ofSeconds(30))).as("the recovered pages written out").isTrue();
                assertThat(tier.recoveredLeft()).isZero();
            }
            for (int page = 0; page < PAGES; page++) {
                long found = TierPages.valueOf(backing.page(page), page); // fails on torn or foreign contents
                Long last = acked.get(page);
                assertThat(last).as("page %d acknowledged", page).isNotNull();
                // The child ran on after its last printed acknowledgement: a later value of this run is fine.
                assertThat(found).as("page %d: acknowledged %d", page, last).isBetween(last, firstValue + 999_999);
            }
        }
    }

    private Process start(int bytes, long firstValue, ConcurrentHashMap<Integer, Long> acked, AtomicLong count)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), TierCrashChild.class.getName(),
                file.toString(), Integer.toString(bytes), Integer.toString(PAGES), Long.toString(firstValue)));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.US_ASCII))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.startsWith("ACK ")) {
                        String[] f = line.split(" ");
                        if (f.length == 3 && !f[2].isEmpty()) {
                            acked.put(Integer.parseInt(f[1]), Long.parseLong(f[2]));
                            count.incrementAndGet();
                        }
                    } else if (!line.isBlank()) {
                        System.out.println("child: " + line);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the child died mid-line: what came before counts
            }
        }, "tier-kill-child-output");
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    private ByteBuf map(int bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return Unpooled.wrappedBuffer(channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes));
        }
    }
}
