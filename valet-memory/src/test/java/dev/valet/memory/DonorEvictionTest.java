package dev.valet.memory;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import dev.valet.donor.memory.MemInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Eviction as for swap, through the API: three real donor processes reading their host's free memory from files of
 * the test (the donor's meminfo hook), two copies of every slab; one donor's host runs short of memory while regions
 * are written, it evicts every slab it holds, the engine moves them, and every region still reads back exactly.
 */
class DonorEvictionTest {
    private static final String DONOR_YAML = """
            memory: 256M
            lockMemory: false
            memorySampleInterval: 100ms
            headroom:
              evictBelow: 512M
              expandAbove: 1G
              evictTimeout: 60s
            """;

    @TempDir
    Path dir;

    @Test
    void aDonorShortOfMemoryGivesUpEverySlabAndNoByteIsLost() throws Exception {
        List<DonorProcess> donors = new ArrayList<>();
        List<Path> meminfo = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Path m = dir.resolve("donor-" + i + ".meminfo");
                MemInfo.write(m, 8L << 30);
                meminfo.add(m);
                donors.add(DonorProcess.start(dir, "e" + i, "127.0.0.1", 0, DONOR_YAML, m));
            }
            ClientConfig config = LoopbackCluster.config("evict-test", 2, donors.size());
            try (RemoteMemory memory = RemoteMemory.connect(config, donors.stream().map(DonorProcess::address)
                    .toList(), MemoryOptions.DEFAULTS)) {
                Random random = new Random(11);
                List<MemoryModel> models = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    MemoryModel m = new MemoryModel(memory.allocate(i % 2 == 0 ? 300_000 : 1 + random.nextInt(2048)));
                    m.region.write(0, m.change(0, m.bytes.length, random, i % 3 == 0));
                    models.add(m);
                }
                DonorProcess victim = donors.get(0);
                assertThat(memory.engine().slabsHeldBy(victim.address())).as("the victim holds copies").isPositive();

                MemInfo.write(meminfo.get(0), 100L << 20); // far below evictBelow: it evicts everything it holds
                for (MemoryModel m : models) { // writing on while the slabs move
                    int at = random.nextInt(m.bytes.length);
                    int n = 1 + random.nextInt(m.bytes.length - at);
                    m.region.write(at, m.change(at, n, random, false));
                }
                Await.until("donor " + victim.address() + " to hold no slab", Duration.ofSeconds(60),
                        () -> memory.engine().slabsHeldBy(victim.address()) == 0);
                long wrong = 0;
                for (MemoryModel m : models) {
                    ByteBuffer b = ByteBuffer.allocateDirect(m.bytes.length);
                    m.region.read(0, b);
                    wrong += m.wrongBytes(0, b.flip());
                }
                assertThat(wrong).as("wrong bytes after eviction").isZero();
                assertThat(memory.engine().stats().slabsMigrated()).isPositive();
            }
        } finally {
            for (DonorProcess p : donors) {
                p.close();
            }
        }
    }
}
