package dev.valet.donor.store;

import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SlabStoreTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;

    private final List<SlabStore> stores = new ArrayList<>();

    private SlabStore store(long limit, long maxSlab, boolean lock) {
        SlabStore s = new SlabStore(limit, maxSlab, lock);
        stores.add(s);
        return s;
    }

    @AfterEach
    void closeStores() {
        stores.forEach(SlabStore::close);
    }

    private static ErrorCode refusal(ThrowingAlloc alloc) {
        try {
            alloc.run();
        } catch (SlabStoreException e) {
            return e.code();
        }
        throw new AssertionError("allocation was not refused");
    }

    interface ThrowingAlloc {
        void run() throws SlabStoreException;
    }

    @Test
    void lentBytesFollowAllocateAndFreeAndNeverPassTheLimit() throws SlabStoreException {
        SlabStore s = store(16 * PAGE, 8 * PAGE, false);
        Slab a = s.allocate("c", 1, 4 * PAGE);
        assertThat(a.pageCount()).isEqualTo(4);
        assertThat(a.sizeBytes()).isEqualTo(4 * PAGE);
        assertThat(a.key()).isEqualTo(new SlabKey("c", 1));
        s.allocate("c", 2, 8 * PAGE);
        assertThat(s.lentBytes()).isEqualTo(12 * PAGE);
        assertThat(s.slabCount()).isEqualTo(2);

        assertThat(refusal(() -> s.allocate("c", 3, 8 * PAGE))).isEqualTo(ErrorCode.NO_SPACE);
        assertThat(s.lentBytes()).isEqualTo(12 * PAGE);
        assertThat(s.find("c", 3)).isNull();

        s.allocate("c", 3, 4 * PAGE);
        assertThat(s.lentBytes()).isEqualTo(s.lendLimitBytes());
        assertThat(refusal(() -> s.allocate("d", 1, PAGE))).isEqualTo(ErrorCode.NO_SPACE);

        assertThat(s.free("c", 2)).isTrue();
        assertThat(s.lentBytes()).isEqualTo(8 * PAGE);
        assertThat(s.slabCount()).isEqualTo(2);
        s.allocate("d", 1, 8 * PAGE);
        assertThat(s.lentBytes()).isEqualTo(16 * PAGE);
        assertThat(s.slabs()).extracting(Slab::key).containsExactlyInAnyOrder(new SlabKey("c", 1),
                new SlabKey("c", 3), new SlabKey("d", 1));
    }

    @Test
    void badSizesAreRefusedAsBadFrames() {
        SlabStore s = store(1 << 20, 64 * PAGE, false);
        for (long size : new long[] {0, -PAGE, 1, PAGE - 1, PAGE + 1, 65 * PAGE, Long.MAX_VALUE}) {
            assertThat(refusal(() -> s.allocate("c", 1, size))).as("size %d", size).isEqualTo(ErrorCode.BAD_FRAME);
        }
        assertThat(s.lentBytes()).isZero();
        assertThat(s.slabCount()).isZero();
    }

    @Test
    void slabIdsAreNamespacedByOwner() throws SlabStoreException {
        SlabStore s = store(1 << 20, 64 * PAGE, false);
        Slab mine = s.allocate("alice", 1, PAGE);
        Slab yours = s.allocate("bob", 1, PAGE);
        assertThat(mine).isNotSameAs(yours);
        assertThat(s.find("alice", 1)).isSameAs(mine);
        assertThat(s.find("bob", 1)).isSameAs(yours);
        assertThat(s.find("carol", 1)).isNull();
        assertThat(refusal(() -> s.allocate("alice", 1, PAGE))).isEqualTo(ErrorCode.SLAB_EXISTS);
        assertThat(s.free("carol", 1)).isFalse();
        assertThat(s.find("alice", 1)).isSameAs(mine);
    }

    @Test
    void freeOfAnUnknownSlabIsFalseAndFreeingTwiceToo() throws SlabStoreException {
        SlabStore s = store(1 << 20, 64 * PAGE, false);
        assertThat(s.free("nobody", 42)).isFalse();
        Slab slab = s.allocate("c", 42, 2 * PAGE);
        assertThat(s.free("c", 42)).isTrue();
        assertThat(s.free("c", 42)).isFalse();
        assertThat(s.lentBytes()).isZero();
        assertThat(s.find("c", 42)).isNull();
        synchronized (slab.lock()) {
            assertThat(slab.isFreed()).isTrue();
        }
    }

    @Test
    void slabsStartZeroedAndKeepWhatIsStored() throws SlabStoreException {
        SlabStore s = store(1 << 20, 64 * PAGE, false);
        Slab slab = s.allocate("c", 1, 4 * PAGE);
        byte[] data = new byte[PAGE];
        new java.util.Random(1).nextBytes(data);
        synchronized (slab.lock()) {
            for (int i = 0; i < slab.pageCount(); i++) {
                assertThat(slab.version(i)).isZero();
                assertThat(slab.crc(i)).isEqualTo(Slab.ZERO_PAGE_CRC);
            }
            assertThat(slab.pages().getLong(3 * PAGE + 8)).isZero();
            slab.store(3, 7, 1234, Unpooled.wrappedBuffer(data), 0);
            assertThat(slab.version(3)).isEqualTo(7);
            assertThat(slab.crc(3)).isEqualTo(1234);
            byte[] back = new byte[PAGE];
            slab.pages().getBytes(3 * PAGE, back);
            assertThat(back).isEqualTo(data);
            assertThat(slab.version(2)).isZero();
        }
    }

    @Test
    void closeReleasesEverySlab() throws SlabStoreException {
        SlabStore s = store(1 << 20, 64 * PAGE, false);
        List<Slab> slabs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            slabs.add(s.allocate("owner-" + (i % 3), i, (1 + i) * PAGE));
        }
        assertThat(s.lentBytes()).isEqualTo(55L * PAGE);
        s.close();
        assertThat(s.lentBytes()).isZero();
        assertThat(s.slabCount()).isZero();
        assertThat(s.slabs()).isEmpty();
        for (Slab slab : slabs) {
            synchronized (slab.lock()) {
                assertThat(slab.isFreed()).isTrue();
            }
        }
        // Closing twice is harmless.
        s.close();
        assertThat(s.lentBytes()).isZero();
    }

    @Test
    void concurrentAllocationsOfOneKeyLetExactlyOneWin() throws Exception {
        int threads = 8;
        SlabStore s = store(threads * 16L * PAGE, 16 * PAGE, false);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 50; round++) {
                long slabId = round;
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<ErrorCode>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        try {
                            s.allocate("shared", slabId, 16 * PAGE);
                            return null;
                        } catch (SlabStoreException e) {
                            return e.code();
                        }
                    }));
                }
                int wins = 0;
                for (Future<ErrorCode> f : results) {
                    ErrorCode code = f.get(10, TimeUnit.SECONDS);
                    if (code == null) {
                        wins++;
                    } else {
                        assertThat(code).as("round %d", round).isEqualTo(ErrorCode.SLAB_EXISTS);
                    }
                }
                assertThat(wins).as("round %d winners", round).isEqualTo(1);
                assertThat(s.lentBytes()).isEqualTo(16L * PAGE);
                assertThat(s.slabCount()).isEqualTo(1);
                assertThat(s.free("shared", slabId)).isTrue();
                assertThat(s.lentBytes()).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void lockedAllocationWorksWhenRunningAsRoot() throws Exception {
        assumeTrue(effectiveUid() == 0, "mlock of a slab needs root (CAP_IPC_LOCK) or a RLIMIT_MEMLOCK above the"
                + " slab size; this test runs as uid " + effectiveUid() + ", so a refusal would say nothing about"
                + " the store");
        SlabStore s = store(1 << 20, 64 * PAGE, true);
        Slab slab = s.allocate("locked", 1, 64 * PAGE);
        synchronized (slab.lock()) {
            slab.store(63, 1, 0, Unpooled.wrappedBuffer(new byte[PAGE]), 0);
            assertThat(slab.version(63)).isEqualTo(1);
        }
        assertThat(s.lentBytes()).isEqualTo(64L * PAGE);
        assertThat(s.free("locked", 1)).isTrue();
        assertThat(s.lentBytes()).isZero();
    }

    private static long effectiveUid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
            }
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }
}
