package dev.valet.memory;

import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real donor processes, two copies of every slab, two threads reading and writing their own regions (small
 * ones packed, large ones across slabs) against a model; one donor holding copies is SIGKILLed mid-run. Every read,
 * during and after, returns exactly the model's bytes, and the engine restores the lost copies.
 */
class DonorKillTest {
    @TempDir
    Path dir;

    @Test
    void aDonorKilledMidRunCostsNoByte() throws Exception {
        try (LoopbackCluster cluster = new LoopbackCluster(dir, 3);
             RemoteMemory memory = cluster.connect("kill-test", 2, MemoryOptions.DEFAULTS.withCacheBytes(1 << 20))) {
            int threads = 2;
            List<List<MemoryModel>> mine = new ArrayList<>();
            Random sizes = new Random(7);
            for (int t = 0; t < threads; t++) {
                List<MemoryModel> models = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    long size = i % 3 == 0 ? 200_000 + sizes.nextInt(600_000) : 1 + sizes.nextInt(3000);
                    MemoryModel m = new MemoryModel(memory.allocate(size));
                    m.region.write(0, m.change(0, m.bytes.length, sizes, i % 2 == 0));
                    models.add(m);
                }
                mine.add(models);
            }
            DonorProcess victim = cluster.donors.get(0);
            assertThat(memory.engine().slabsHeldBy(victim.address())).as("the victim holds copies").isPositive();

            CountDownLatch halfway = new CountDownLatch(threads);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Long>> wrong = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    List<MemoryModel> models = mine.get(t);
                    Random random = new Random(100 + t);
                    wrong.add(pool.submit(() -> {
                        long bad = 0;
                        for (int op = 0; op < 300; op++) {
                            if (op == 150) {
                                halfway.countDown();
                            }
                            MemoryModel m = models.get(random.nextInt(models.size()));
                            int from = random.nextInt(m.bytes.length);
                            int n = 1 + random.nextInt(Math.min(m.bytes.length - from, 100_000));
                            if (random.nextBoolean()) {
                                m.region.write(from, m.change(from, n, random, random.nextBoolean()));
                            } else {
                                ByteBuffer b = ByteBuffer.allocate(n);
                                m.region.read(from, b);
                                bad += m.wrongBytes(from, b.flip());
                            }
                        }
                        return bad;
                    }));
                }
                halfway.await();
                victim.kill();
                for (Future<Long> f : wrong) {
                    assertThat(f.get()).as("wrong bytes read while a donor died").isZero();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(memory.engine().awaitFullyReplicated(Duration.ofSeconds(60), Duration.ofMillis(100), s -> { }))
                    .as("copies restored: %s", memory.engine().stats()).isTrue();
            long wrong = 0;
            for (List<MemoryModel> models : mine) {
                for (MemoryModel m : models) {
                    ByteBuffer b = ByteBuffer.allocateDirect(m.bytes.length);
                    m.region.read(0, b);
                    wrong += m.wrongBytes(0, b.flip());
                }
            }
            assertThat(wrong).as("wrong bytes after re-replication").isZero();
            assertThat(memory.stats().liveDonors()).isEqualTo(2);
        }
    }
}
