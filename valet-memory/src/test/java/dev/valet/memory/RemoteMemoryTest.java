package dev.valet.memory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The API on two real donor processes (two copies of every slab): what a program sees, and what it must not. */
class RemoteMemoryTest {
    @TempDir
    static Path dir;

    private static LoopbackCluster cluster;
    private final Random random = new Random(20);

    @BeforeAll
    static void startDonors() throws Exception {
        cluster = new LoopbackCluster(dir, 2);
    }

    @AfterAll
    static void stopDonors() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static RemoteMemory connect(String identity) throws MemoryException {
        return cluster.connect(identity, 2, MemoryOptions.DEFAULTS);
    }

    private static ByteBuffer readAll(Region r, boolean direct) throws MemoryException {
        int n = Math.toIntExact(r.size());
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
        r.read(0, b);
        assertThat(b.remaining()).as("position moved to the limit").isZero();
        return b.flip();
    }

    @Test
    void aNewRegionReadsZerosAndEveryRegionHoldsWhatWasWrittenSmallOrSpanningSlabs() throws Exception {
        try (RemoteMemory memory = connect("api-sizes")) {
            long[] sizes = {1, 100, 2048, 2049, 4096, 5000, 3 * LoopbackCluster.SLAB + 123};
            List<MemoryModel> models = new ArrayList<>();
            for (long size : sizes) {
                Region r = memory.allocate(size);
                assertThat(r.size()).isEqualTo(size);
                assertThat(new MemoryModel(r).wrongBytes(0, readAll(r, false))).as("new %s reads zeros", r).isZero();
                MemoryModel m = new MemoryModel(r);
                ByteBuffer src = m.change(0, (int) size, random, models.size() % 2 == 0);
                r.write(0, src);
                assertThat(src.remaining()).isZero();
                models.add(m);
            }
            for (MemoryModel m : models) {
                assertThat(m.wrongBytes(0, readAll(m.region, true))).as("%s direct", m.region).isZero();
                assertThat(m.wrongBytes(0, readAll(m.region, false))).as("%s heap", m.region).isZero();
            }
            // A write into the middle of a large region changes those bytes only (pages read, changed, written).
            MemoryModel big = models.get(models.size() - 1);
            int at = (int) LoopbackCluster.SLAB - 1000;
            big.region.write(at, big.change(at, 9000, random, false));
            assertThat(big.wrongBytes(0, readAll(big.region, true))).isZero();
            assertThat(memory.stats().slabsMapped()).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void smallRegionsPackedInOnePageKeepTheirOwnBytesAndFreedSpaceReadsZerosWhenPlacedAgain() throws Exception {
        try (RemoteMemory memory = connect("api-packed")) {
            List<MemoryModel> models = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                MemoryModel m = new MemoryModel(memory.allocate(100));
                m.region.write(0, m.change(0, 100, random, i % 2 == 0));
                models.add(m);
            }
            assertThat(memory.stats().slotPages()).as("128-byte slots, 32 a page").isEqualTo(7);
            for (MemoryModel m : models) {
                assertThat(m.wrongBytes(0, readAll(m.region, false))).as("%s", m.region).isZero();
            }
            models.get(5).region.free();
            Region again = memory.allocate(90);
            assertThat(new MemoryModel(again).wrongBytes(0, readAll(again, false))).as("a reused slot").isZero();
            Region large = memory.allocate(10_000);
            large.write(0, new MemoryModel(large).change(0, 10_000, random, true));
            large.free();
            Region large2 = memory.allocate(10_000);
            assertThat(new MemoryModel(large2).wrongBytes(0, readAll(large2, true))).as("reused pages").isZero();
            for (MemoryModel m : models) {
                if (!m.region.isFreed()) {
                    assertThat(m.wrongBytes(0, readAll(m.region, false))).as("%s", m.region).isZero();
                }
            }
        }
    }

    @Test
    void misuseIsRefusedAndChangesNothing() throws Exception {
        try (RemoteMemory memory = connect("api-misuse")) {
            MemoryModel m = new MemoryModel(memory.allocate(5000));
            m.region.write(0, m.change(0, 5000, random, false));
            ByteBuffer tooFar = ByteBuffer.allocate(10);
            assertThatThrownBy(() -> m.region.write(4995, tooFar)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("4995..5004").hasMessageContaining(m.region.toString());
            assertThat(tooFar.position()).isZero();
            assertThatThrownBy(() -> m.region.read(-1, ByteBuffer.allocate(1)))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> m.region.read(0, ByteBuffer.allocate(8).asReadOnlyBuffer()))
                    .isInstanceOf(ReadOnlyBufferException.class);
            assertThat(m.wrongBytes(0, readAll(m.region, true))).isZero();

            assertThatThrownBy(() -> memory.allocate(0)).isInstanceOf(IllegalArgumentException.class);
            MemoryStats before = memory.stats();
            assertThatThrownBy(() -> memory.allocate(LoopbackCluster.SPACE))
                    .isInstanceOf(OutOfRemoteMemoryException.class)
                    .hasMessageContaining("cannot allocate " + LoopbackCluster.SPACE + " bytes")
                    .hasMessageContaining("swapSpace");
            assertThat(memory.stats().regions()).isEqualTo(before.regions());
            assertThat(memory.stats().freeBytes()).isEqualTo(before.freeBytes());

            m.region.free();
            assertThat(m.region.isFreed()).isTrue();
            assertThatThrownBy(() -> readAll(m.region, false)).isInstanceOf(RegionFreedException.class)
                    .hasMessageContaining("was freed");
            assertThatThrownBy(m.region::free).isInstanceOf(RegionFreedException.class)
                    .hasMessageContaining("freed already");
            assertThat(memory.stats().regions()).isZero();
            assertThat(memory.stats().freeBytes()).isEqualTo(LoopbackCluster.SPACE);

            try (RemoteMemory other = connect("api-misuse-other")) {
                Region theirs = other.allocate(10);
                assertThatThrownBy(() -> memory.free(theirs)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("belongs to");
            }
        }
    }

    @Test
    void bulkAndAsyncFormsTransferEveryPartIncludingSeveralInOnePage() throws Exception {
        try (RemoteMemory memory = connect("api-bulk")) {
            List<MemoryModel> models = new ArrayList<>();
            List<Transfer> writes = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                MemoryModel m = new MemoryModel(memory.allocate(i % 4 == 0 ? 70_000 : 64 + i));
                models.add(m);
                int n = (int) m.region.size();
                writes.add(new Transfer(m.region, 0, m.change(0, n / 2, random, i % 3 == 0)));
                writes.add(new Transfer(m.region, n / 2, m.change(n / 2, n - n / 2, random, i % 3 == 1)));
            }
            memory.writeAsync(writes).get();
            assertThat(writes).allMatch(t -> t.buffer().remaining() == 0);
            List<Transfer> reads = new ArrayList<>();
            for (MemoryModel m : models) {
                reads.add(new Transfer(m.region, 0, ByteBuffer.allocate((int) m.region.size())));
            }
            memory.read(reads);
            for (int i = 0; i < models.size(); i++) {
                assertThat(models.get(i).wrongBytes(0, reads.get(i).buffer().flip())).isZero();
            }
            MemoryModel first = models.get(1);
            ByteBuffer one = ByteBuffer.allocateDirect(10);
            first.region.readAsync(3, one).get();
            assertThat(first.wrongBytes(3, one.flip())).isZero();
            CompletableFuture<Void> late = first.region.writeAsync(0, ByteBuffer.allocate(1));
            late.get();
            first.region.free();
            assertThat(first.region.readAsync(0, ByteBuffer.allocate(1))).failsWithin(java.time.Duration.ofMinutes(1))
                    .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .withCauseInstanceOf(RegionFreedException.class);
        }
    }

    @Test
    void threadsWritingNeighbouringSmallRegionsOfOnePageNeverLoseEachOthersBytes() throws Exception {
        try (RemoteMemory memory = connect("api-threads")) {
            int threads = 4;
            List<List<MemoryModel>> mine = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                mine.add(new ArrayList<>());
            }
            for (int i = 0; i < 64 * threads; i++) {
                mine.get(i % threads).add(new MemoryModel(memory.allocate(64))); // neighbours: another thread's
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Long>> wrong = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    List<MemoryModel> models = mine.get(t);
                    Random own = new Random(t);
                    wrong.add(pool.submit(() -> {
                        long bad = 0;
                        for (int round = 0; round < 6; round++) {
                            for (MemoryModel m : models) {
                                int at = own.nextInt(64);
                                int n = 1 + own.nextInt(64 - at);
                                m.region.write(at, m.change(at, n, own, round % 2 == 0));
                            }
                            for (MemoryModel m : models) {
                                bad += m.wrongBytes(0, readAll(m.region, round % 2 == 1));
                            }
                        }
                        return bad;
                    }));
                }
                for (Future<Long> f : wrong) {
                    assertThat(f.get()).isZero();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void theCacheServesHotPagesWithinItsBoundAndNeverStaleData() throws Exception {
        try (RemoteMemory memory = cluster.connect("api-cache", 2, MemoryOptions.DEFAULTS.withCacheBytes(64 << 10))) {
            MemoryModel hot = new MemoryModel(memory.allocate(32 << 10));
            hot.region.write(0, hot.change(0, 32 << 10, random, true));
            long fetched = memory.stats().pagesFetched();
            for (int i = 0; i < 3; i++) {
                assertThat(hot.wrongBytes(0, readAll(hot.region, false))).isZero();
            }
            assertThat(memory.stats().pagesFetched()).as("hot pages come from the cache").isEqualTo(fetched);
            assertThat(memory.stats().cacheHits()).isGreaterThanOrEqualTo(3 * 8);
            MemoryModel big = new MemoryModel(memory.allocate(1 << 20));
            big.region.write(0, big.change(0, 1 << 20, random, false));
            assertThat(memory.stats().cachedBytes()).isLessThanOrEqualTo(64 << 10);
            hot.region.write(100, hot.change(100, 5000, random, false));
            assertThat(hot.wrongBytes(0, readAll(hot.region, true))).isZero();
            assertThat(big.wrongBytes(0, readAll(big.region, true))).isZero();
            assertThat(memory.stats().pagesFetched()).as("evicted pages come from the donors").isGreaterThan(fetched);
        }
    }

    @Test
    void oneIdentitysRegionsAreInvisibleToAnother() throws Exception {
        try (RemoteMemory alice = connect("api-alice")) {
            MemoryModel a = new MemoryModel(alice.allocate(3 * LoopbackCluster.SLAB));
            a.region.write(0, a.change(0, (int) a.region.size(), random, true));
            try (RemoteMemory bob = connect("api-bob")) {
                assertThat(bob.stats().slabsMapped()).as("bob's engine finds none of alice's slabs").isZero();
                MemoryModel b = new MemoryModel(bob.allocate(3 * LoopbackCluster.SLAB));
                assertThat(b.wrongBytes(0, readAll(b.region, false))).as("bob reads zeros, not alice's").isZero();
                // The same pages of the same slab ids under two identities: the donors keep them apart.
                b.region.write(0, b.change(0, (int) b.region.size(), random, false));
                assertThat(b.wrongBytes(0, readAll(b.region, true))).isZero();
                assertThat(a.wrongBytes(0, readAll(a.region, true))).as("alice's bytes untouched").isZero();
            }
        }
    }

    @Test
    void connectReadsValetYamlAndItsPortalListRegionsEndWithCloseAndABadKeyIsNamed() throws Exception {
        Path portal = dir.resolve("portal.list");
        List<String> lines = new ArrayList<>(List.of(String.valueOf(cluster.donors.size())));
        cluster.addresses().forEach(a -> lines.add(a.toString()));
        Files.write(portal, lines);
        Path yaml = dir.resolve("valet.yaml");
        Files.writeString(yaml, """
                identity: api-yaml
                portalList: portal.list
                swapSpace: 16M
                slabSize: 1M
                placement:
                  numReplica: 2
                """, StandardCharsets.UTF_8);
        MemoryModel m;
        RemoteMemory closed;
        try (RemoteMemory memory = RemoteMemory.connect(yaml)) {
            assertThat(memory.capacity()).isEqualTo(16L << 20);
            m = new MemoryModel(memory.allocate(6000));
            m.region.write(0, m.change(0, 6000, random, false));
            assertThat(m.wrongBytes(0, readAll(m.region, true))).isZero();
            closed = memory;
        }
        assertThatThrownBy(() -> readAll(m.region, false)).isInstanceOf(RegionFreedException.class)
                .hasMessageContaining("is closed");
        assertThatThrownBy(() -> closed.allocate(1)).isInstanceOf(MemoryException.class)
                .hasMessageContaining("is closed");
        assertThat(m.region.readAsync(0, ByteBuffer.allocate(1))).failsWithin(java.time.Duration.ofMinutes(1))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withCauseInstanceOf(MemoryException.class);
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "identity: api-bad\nplacement:\n  numReplcia: 2\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> RemoteMemory.connect(bad)).isInstanceOf(MemoryException.class)
                .hasMessageContaining("bad.yaml:3").hasMessageContaining("numReplcia");
    }
}
