package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import dev.valet.donor.memory.MemInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Donors whose host needs its memory back, against the engine: real donor processes on loopback whose free memory
 * comes from a file this test rewrites (the donor's documented {@code --meminfo-file} test hook). Each donor keeps
 * 512M free (evictBelow) and starts seeing 8 GiB; "pressure" makes it see 100 MiB.
 */
class EngineEvictionTest {
    private static final long PLENTY = ByteSize.ofGibibytes(8).bytes();
    private static final long SHORT = ByteSize.ofMebibytes(100).bytes();

    @TempDir
    Path dir;

    private DonorProcess donor(EngineHarness h, String name, String memory, String evictTimeout) throws IOException {
        setMemInfo(name, PLENTY);
        DonorProcess p = DonorProcess.start(dir, name, "127.0.0.1", 0, """
                memory: %s
                lockMemory: false
                memorySampleInterval: 100ms
                headroom:
                  evictBelow: 512M
                  expandAbove: 1G
                  evictTimeout: %s
                """.formatted(memory, evictTimeout), meminfo(name));
        h.donors.add(p);
        return p;
    }

    private Path meminfo(String name) {
        return dir.resolve(name + ".meminfo");
    }

    private void setMemInfo(String name, long availableBytes) throws IOException {
        MemInfo.write(meminfo(name), availableBytes);
    }

    @Test
    void aDonorUnderPressureHandsItsSlabsToTheOthersWhileAWorkloadRunsAndNoPageIsLost() throws Exception {
        try (EngineHarness h = new EngineHarness(dir)) {
            for (int i = 0; i < 3; i++) {
                donor(h, "d" + i, "256M", "5s");
            }
            Engine engine = h.start(EngineHarness.config(1, 3));
            long pages = h.pages();
            h.write(0, pages, 1);
            // The donor under pressure is one that holds slabs: placement by rank need not use all three.
            DonorProcess pressured = h.donors.stream()
                    .max(Comparator.comparingInt((DonorProcess d) -> h.slabsOn(d).size())).orElseThrow();
            assertThat(h.slabsOn(pressured)).as("slabs on %s before the pressure", pressured.address()).isNotEmpty();

            // The workload: rewrite everything with a new generation, read it all back, again and again.
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong generation = new AtomicLong(1);
            AtomicLong badPages = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread workload = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        long gen = generation.get() + 1;
                        h.write(0, pages, gen);
                        generation.set(gen);
                        badPages.addAndGet(h.mismatches(0, pages, gen));
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "workload");
            workload.start();
            setMemInfo(donorName(h, pressured), SHORT);
            boolean emptied = Await.holdsWithin(Duration.ofSeconds(60), () -> h.slabsOn(pressured).isEmpty()
                    && statsOf(h, pressured) != null && statsOf(h, pressured).lentBytes() == 0);
            // A few more rounds with that donor under pressure and empty.
            long gen = generation.get();
            Await.holdsWithin(Duration.ofSeconds(60), () -> generation.get() >= gen + 2 || failure.get() != null);
            stop.set(true);
            workload.join(60_000);

            assertThat(failure.get()).as("workload error").isNull();
            assertThat(badPages.get()).as("pages read back wrong during the evictions").isZero();
            assertThat(emptied).as("%s gave back every slab: %s", pressured.address(), statsOf(h, pressured)).isTrue();
            assertThat(h.mismatches(0, pages, generation.get())).isZero();
            RemoteDonor evicting = h.remote(pressured);
            for (SlabEntry s : engine.slabMap().touched()) {
                assertThat(s.replicas()).as("slab %d", s.id()).hasSize(1).doesNotContain(evicting);
            }
            assertThat(engine.slabsHeldBy(pressured.address())).isZero();
            DonorStats pressuredStats = statsOf(h, pressured);
            assertThat(pressuredStats.evictionsCompleted()).isPositive();
            assertThat(pressuredStats.offeredBytes()).isZero();
            assertThat(engine.stats().slabsMigrated()).isPositive();
            assertThat(Files.readString(pressured.log())).contains("memory pressure").contains("moved slab");
        }
    }

    @Test
    void writesDuringAMigrationAreNotLost() throws Exception {
        try (EngineHarness h = new EngineHarness(dir)) {
            for (int i = 0; i < 3; i++) {
                donor(h, "d" + i, "256M", "60s");
            }
            // A slow migration (1 MiB/s: two seconds for the 2 MiB slab) so the rewrites below overlap it.
            Engine engine = h.start(EngineHarness.config(2, 3, ConfigOverride.of("failover.migrationRate", "1M")));
            long pages = EngineHarness.SLAB / FrameHeader.PAGE_SIZE;
            h.write(0, pages, 1);
            SlabEntry slab = engine.slabMap().slabOf(0);
            assertThat(slab.replicas()).hasSize(2);
            DonorProcess holder = h.holderOf(slab);
            RemoteDonor evicting = h.remote(holder);

            setMemInfo(donorName(h, holder), SHORT);
            assertThat(Await.holdsWithin(Duration.ofSeconds(20), () -> slab.catchingUp() != null))
                    .as("migration started").isTrue();
            h.write(0, pages, 2);
            assertThat(Await.holdsWithin(Duration.ofSeconds(30),
                    () -> !slab.replicas().contains(evicting) && slab.replicas().size() == 2))
                    .as("the copy left %s: %s", evicting, slab).isTrue();

            assertThat(h.mismatches(0, pages, 2)).isZero();
            // Each copy alone must hold generation 2.
            List<RemoteDonor> both = slab.replicas();
            for (RemoteDonor keep : both) {
                slab.setReplicas(List.of(keep));
                assertThat(h.mismatches(0, pages, 2)).as("copy on %s", keep).isZero();
            }
            slab.setReplicas(both);
        }
    }

    /** With encryption the disk is sealed: it is checked for each page's version before it takes the slab. */
    @ParameterizedTest(name = "encrypted: {0}")
    @ValueSource(booleans = {false, true})
    void withNoDonorRoomTheBackupDiskTakesTheSlabAndReadsStillVerify(boolean encrypted) throws Exception {
        List<ConfigOverride> more = new ArrayList<>(List.of(ConfigOverride.of("backupDisk",
                dir.resolve("backup.img"))));
        if (encrypted) {
            more.addAll(EngineHarness.encryption(dir));
        }
        try (EngineHarness h = new EngineHarness(dir)) {
            DonorProcess pressured = donor(h, "d0", "256M", "10s");
            // Too small for a 2 MiB slab: never has room.
            donor(h, "d1", "1M", "10s");
            Engine engine = h.start(EngineHarness.config(1, 2, more.toArray(ConfigOverride[]::new)));
            long pages = h.pages();
            h.write(0, pages, 1);
            assertThat(h.slabsOn(pressured)).hasSize((int) (EngineHarness.SWAP / EngineHarness.SLAB));

            setMemInfo("d0", SHORT);
            assertThat(Await.holdsWithin(Duration.ofSeconds(60),
                    () -> statsOf(h, pressured) != null && statsOf(h, pressured).lentBytes() == 0))
                    .as("d0 emptied: %s", statsOf(h, pressured)).isTrue();

            assertThat(h.slabsOn(pressured)).isEmpty();
            assertThat(engine.stats().slabsWithoutCopy()).as("slabs on the disk alone")
                    .isEqualTo((int) (EngineHarness.SWAP / EngineHarness.SLAB));
            assertThat(h.mismatches(0, pages, 1)).isZero();
            // Writes go on, to the disk alone (no donor can take a slab), and read back.
            h.write(0, pages / 4, 2);
            assertThat(h.mismatches(0, pages / 4, 2)).isZero();
            assertThat(h.mismatches(pages / 4, pages, 1)).isZero();
            assertThat(statsOf(h, pressured).evictionsCompleted()).isPositive();
        }
    }

    @Test
    void withNowhereToGoTheDonorKeepsTheSlabAndSaysSo() throws Exception {
        try (EngineHarness h = new EngineHarness(dir)) {
            DonorProcess pressured = donor(h, "d0", "256M", "1s");
            donor(h, "d1", "1M", "1s");
            Engine engine = h.start(EngineHarness.config(1, 2));
            long pages = h.pages();
            h.write(0, pages, 1);
            int held = h.slabsOn(pressured).size();

            setMemInfo("d0", SHORT);
            assertThat(Await.holdsWithin(Duration.ofSeconds(30),
                    () -> statsOf(h, pressured) != null && statsOf(h, pressured).evictionsDeclined() > 0))
                    .as("the client declined: %s", statsOf(h, pressured)).isTrue();

            assertThat(h.slabsOn(pressured)).hasSize(held);
            DonorStats stats = statsOf(h, pressured);
            assertThat(stats.lentBytes()).isEqualTo(held * EngineHarness.SLAB);
            assertThat(stats.offeredBytes()).isZero();
            assertThat(engine.stats().evictionsDeclined()).isPositive();
            assertThat(h.mismatches(0, pages, 1)).isZero();
            h.write(0, pages / 2, 2);
            assertThat(h.mismatches(0, pages / 2, 2)).isZero();
            assertThat(h.mismatches(pages / 2, pages, 1)).isZero();
            assertThat(Files.readString(pressured.log())).contains("keeping slab").contains("EVICT_NOWHERE");
        }
    }

    private static String donorName(EngineHarness h, DonorProcess p) {
        return "d" + h.donors.indexOf(p);
    }

    private static DonorStats statsOf(EngineHarness h, DonorProcess p) {
        return h.remote(p).stats();
    }
}
