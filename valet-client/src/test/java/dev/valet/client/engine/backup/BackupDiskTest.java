package dev.valet.client.engine.backup;

import dev.valet.common.testing.Await;
import dev.valet.common.testing.ThreadAllocation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.valet.client.engine.backup.BackupPages.PAGE;
import static dev.valet.client.engine.backup.BackupPages.assertHolds;
import static dev.valet.client.engine.backup.BackupPages.await;
import static dev.valet.client.engine.backup.BackupPages.crc;
import static dev.valet.client.engine.backup.BackupPages.scratch;
import static dev.valet.client.engine.backup.BackupPages.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupDiskTest {
    private static final Duration HANG = Duration.ofMinutes(1);

    @TempDir
    Path dir;

    @Test
    void twentyThousandPagesReadBackExactly() throws Exception {
        ByteBuf src = scratch();
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 32_768L * PAGE, 4096)) {
            // 10,000 consecutive pages (written in coalesced runs), then 10,000 in a scattered order.
            long last = 0;
            for (int i = 0; i < 20_000; i++) {
                last = write(disk, src, page(i), i);
            }
            await(disk.whenWritten(last));

            for (int i = 0; i < 20_000; i++) {
                assertHolds(disk, page(i), i);
            }
            assertThat(disk.writtenPages()).isEqualTo(20_000);
            assertThat(disk.pendingWrites()).isZero();
            assertThat(disk.failedWrites()).isZero();
        } finally {
            src.release();
        }
    }

    /** Pages 0..9999 in order, then a permutation of 10000..29999 (7919 is prime to 20000). */
    private static long page(int i) {
        return i < 10_000 ? i : 10_000 + (i - 10_000) * 7919L % 20_000;
    }

    @Test
    void theLastWriteOfAPageWinsAndAReadWaitsForIt() throws Exception {
        ByteBuf src = scratch();
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 256L * PAGE, 16)) {
            for (int v = 0; v < 1000; v++) {
                write(disk, src, 7, v);
                write(disk, src, 100 + v % 50, v);
            }
            long last = write(disk, src, 7, 1000);

            // No waiting first: the read itself waits for the writes queued before it.
            assertHolds(disk, 7, 1000);
            await(disk.whenWritten(last));
            assertHolds(disk, 7, 1000);
            for (int p = 0; p < 50; p++) {
                assertHolds(disk, 100 + p, 950 + p);
            }
        } finally {
            src.release();
        }
    }

    @Test
    void anOlderVersionDoesNotPassForTheExpectedOne() throws Exception {
        ByteBuf src = scratch();
        ByteBuf dst = Unpooled.buffer(PAGE);
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 16L * PAGE, 8)) {
            write(disk, src, 3, 1);
            write(disk, src, 3, 2);

            assertThat(disk.read(3, crc(3, 1), dst, 0)).isFalse();
            assertThat(disk.read(3, crc(3, 2), dst, 0)).isTrue();
            // A page never written holds zeros, which is not what the engine expects either.
            assertThat(disk.read(4, crc(4, 0), dst, 0)).isFalse();
        } finally {
            src.release();
            dst.release();
        }
    }

    @Test
    void aTinyRingTakesEveryWriteFromTwoThreads() throws Exception {
        int perThread = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 256L * PAGE, 8)) {
            List<Callable<Long>> writers = List.of(() -> writeCycling(disk, 0, perThread),
                    () -> writeCycling(disk, 100, perThread));
            long last = 0;
            for (Future<Long> f : pool.invokeAll(writers)) {
                last = Math.max(last, f.get(HANG.toMinutes(), TimeUnit.MINUTES));
            }
            await(disk.whenWritten(last));

            assertThat(disk.writtenPages()).isEqualTo(2L * perThread);
            assertThat(disk.failedWrites()).isZero();
            for (int p = 0; p < 100; p++) {
                assertHolds(disk, p, perThread - 100 + p);
                assertHolds(disk, 100 + p, perThread - 100 + p);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Writes version v to page base + v % 100 for v < count; returns the last sequence. */
    private static long writeCycling(BackupDisk disk, int base, int count) throws InterruptedException {
        ByteBuf src = scratch();
        try {
            long last = 0;
            for (int v = 0; v < count; v++) {
                last = write(disk, src, base + v % 100, v);
            }
            return last;
        } finally {
            src.release();
        }
    }

    @Test
    void aFailedWriteFailsItsFutureAndItsPageUntilRewritten() throws Exception {
        ByteBuf src = scratch();
        ByteBuf dst = Unpooled.buffer(PAGE);
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 16L * PAGE, 8)) {
            long good = write(disk, src, 5, 0);
            write(disk, src, 6, 0);
            await(disk.whenWritten(good));

            disk.failWritesForTest(true);
            long failed = write(disk, src, 5, 1);
            long afterIt = write(disk, src, 9, 1);
            CompletableFuture<Void> waitedFor = disk.whenWritten(afterIt);

            assertThat(waitedFor).failsWithin(HANG).withThrowableOfType(Exception.class)
                    .withRootCauseInstanceOf(IOException.class);
            assertThat(disk.whenWritten(failed)).failsWithin(HANG);
            // The first failure fails every waiting future at once; the second write may still be on its way.
            Await.holdsWithin(Duration.ofSeconds(10), () -> disk.failedWrites() >= 2);
            assertThat(disk.failedWrites()).isEqualTo(2);
            // Neither the new version (not on disk) nor the old one (no longer the page's content) is served.
            assertThat(disk.read(5, crc(5, 1), dst, 0)).isFalse();
            assertThat(disk.read(5, crc(5, 0), dst, 0)).isFalse();
            // Pages whose last write landed are unaffected, and so is the outcome of writes before the failure.
            assertHolds(disk, 6, 0);
            await(disk.whenWritten(good));

            disk.failWritesForTest(false);
            long rewritten = write(disk, src, 5, 2);
            await(disk.whenWritten(rewritten));
            assertHolds(disk, 5, 2);
            assertThat(disk.writtenPages()).isEqualTo(3);
        } finally {
            src.release();
            dst.release();
        }
    }

    @Test
    void closeDrainsTheQueueToDisk() throws Exception {
        Path file = dir.resolve("disk");
        ByteBuf src = scratch();
        BackupDisk disk = BackupDisk.open(file, 4096L * PAGE, 64);
        long last;
        try {
            last = 0;
            for (int i = 0; i < 4000; i++) {
                last = write(disk, src, i * 3L % 4096, i);
            }
        } finally {
            disk.close();
        }
        assertThat(disk.pendingWrites()).isZero();
        assertThat(disk.writtenPages()).isEqualTo(4000);
        await(disk.whenWritten(last));
        disk.close();

        assertThatThrownBy(() -> write(disk, src, 0, 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> disk.read(0, 0, src, 0)).isInstanceOf(IOException.class);
        src.release();

        try (BackupDisk reopened = BackupDisk.open(file, 4096L * PAGE, 8)) {
            for (int i = 0; i < 4000; i++) {
                assertHolds(reopened, i * 3L % 4096, i);
            }
        }
    }

    @Test
    void whenWrittenOfALandedWriteIsAlreadyDone() throws Exception {
        ByteBuf src = scratch();
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 16L * PAGE, 4)) {
            assertThat(disk.whenWritten(0)).isCompleted();
            long first = write(disk, src, 1, 0);
            long last = first;
            for (int i = 0; i < 20; i++) {
                last = write(disk, src, i % 16, i);
            }
            await(disk.whenWritten(last));

            // Older than the ring: answered from the failure history, which is empty.
            assertThat(disk.whenWritten(first)).isCompleted().isNotCompletedExceptionally();
            assertThat(disk.whenWritten(last)).isCompleted().isNotCompletedExceptionally();
            long next = last + 1;
            assertThatThrownBy(() -> disk.whenWritten(next)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> disk.whenWritten(-1)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            src.release();
        }
    }

    @Test
    void pagesOutsideTheDiskAndShortBuffersAreRefused() throws Exception {
        ByteBuf src = scratch();
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 16L * PAGE + 100, 4)) {
            assertThatThrownBy(() -> disk.write(16, src, 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("page 16");
            assertThatThrownBy(() -> disk.write(-1, src, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> disk.read(16, 0, src, 0)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> disk.write(0, src, src.capacity() - PAGE + 1))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> disk.read(0, 0, src, -1)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(disk.pendingWrites() + disk.writtenPages()).isZero();
        } finally {
            src.release();
        }
    }

    @Test
    void steadyStateWritesAllocateNothing() throws Exception {
        ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(PAGE);
        ByteBuf heap = Unpooled.buffer(PAGE);
        direct.writeZero(PAGE);
        heap.writeZero(PAGE);
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), 1024L * PAGE, 256)) {
            long allocated = ThreadAllocation.of(() -> writeRepeatedly(disk, direct, heap, 30_000),
                    () -> writeRepeatedly(disk, direct, heap, 10_000));

            // Less than one byte per write: no object is made per write (the smallest is 16 bytes).
            assertThat(allocated).isLessThan(10_000);
        } finally {
            direct.release();
            heap.release();
        }
    }

    private static void writeRepeatedly(BackupDisk disk, ByteBuf direct, ByteBuf heap, int count)
            throws InterruptedException {
        for (int i = 0; i < count; i++) {
            disk.write(i % 1024, (i & 1) == 0 ? direct : heap, 0);
        }
    }
}
