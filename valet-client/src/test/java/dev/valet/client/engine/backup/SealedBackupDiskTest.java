package dev.valet.client.engine.backup;

import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.testing.Await;
import dev.valet.common.testing.ThreadAllocation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static dev.valet.client.engine.backup.BackupPages.PAGE;
import static dev.valet.client.engine.backup.BackupPages.await;
import static dev.valet.client.engine.backup.BackupPages.content;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A sealed backup disk (page encryption): pages stand for ciphertext here, what matters is that each is kept with
 * its version and tag, read back only under exactly that version and CRC32C, and that a writer never waits inside
 * {@link BackupDisk#writeSealed} (slots are reserved first).
 */
class SealedBackupDiskTest {
    private static final long PAGES = 256;

    @TempDir
    Path dir;

    /** A tag derived from the page and version, distinct for each. */
    private static ByteBuf tag(long pageNo, long version) {
        ByteBuf tag = Unpooled.directBuffer(16);
        tag.writeLong(pageNo * 31 + 7).writeLong(version ^ 0x5A5A5A5AL);
        return tag;
    }

    private static long writeSealed(BackupDisk disk, long pageNo, long version) {
        ByteBuf page = Unpooled.directBuffer(PAGE).writeBytes(content(pageNo, version));
        ByteBuf tag = tag(pageNo, version);
        try {
            return disk.writeSealed(pageNo, version, page, 0, tag, 0);
        } finally {
            page.release();
            tag.release();
        }
    }

    /** What the disk says of page {@code pageNo} asked for {@code version}; on null, the page and tag are checked. */
    private static String read(BackupDisk disk, long pageNo, long version, long contentVersion) throws Exception {
        ByteBuf dst = Unpooled.buffer(PAGE);
        ByteBuf tag = Unpooled.buffer(16);
        try {
            String problem = disk.readSealed(pageNo, version, PageChecksum.crc32c(content(pageNo, contentVersion), 0),
                    dst, 0, tag, 0);
            if (problem == null) {
                assertThat(ByteBufUtil.getBytes(dst, 0, PAGE)).isEqualTo(content(pageNo, version));
                ByteBuf expected = tag(pageNo, version);
                assertThat(ByteBufUtil.getBytes(tag, 0, 16)).isEqualTo(ByteBufUtil.getBytes(expected, 0, 16));
                expected.release();
            }
            return problem;
        } finally {
            dst.release();
            tag.release();
        }
    }

    @Test
    void keepsEachPageWithItsVersionAndTagAndServesOnlyTheExpectedVersion() throws Exception {
        Path file = dir.resolve("disk");
        try (BackupDisk disk = BackupDisk.open(file, PAGES * PAGE, 16, true)) {
            assertThat(disk.sealed()).isTrue();
            // The pages, then a 32-byte record per page: 256 records, 8 KiB.
            assertThat(Files.size(file)).isEqualTo(PAGES * PAGE + PAGES * 32);
            disk.reserve(4);
            writeSealed(disk, 5, 10);
            writeSealed(disk, 6, 11);
            writeSealed(disk, 7, 11);
            await(disk.whenWritten(writeSealed(disk, 5, 12)));

            assertThat(read(disk, 5, 12, 12)).isNull();
            assertThat(read(disk, 6, 11, 11)).isNull();
            assertThat(read(disk, 7, 11, 11)).isNull();
            assertThat(read(disk, 5, 10, 10)).isEqualTo("holds page 5 version 12, not 10");
            assertThat(read(disk, 6, 11, 12)).contains("fails its CRC32C");
            assertThat(read(disk, 8, 3, 3)).isEqualTo("holds page 8 version 0, not 3");
        }
        // Reopened (a restart): the records are where they were.
        try (BackupDisk disk = BackupDisk.open(file, PAGES * PAGE, 16, true)) {
            assertThat(read(disk, 5, 12, 12)).isNull();
        }
    }

    @Test
    void aBitFlippedInTheCiphertextIsCaughtByTheChecksum() throws Exception {
        Path file = dir.resolve("disk");
        try (BackupDisk disk = BackupDisk.open(file, PAGES * PAGE, 16, true)) {
            disk.reserve(1);
            await(disk.whenWritten(writeSealed(disk, 9, 4)));
            try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
                raw.seek(9L * PAGE + 1000);
                int b = raw.read();
                raw.seek(9L * PAGE + 1000);
                raw.write(b ^ 1);
            }
            assertThat(read(disk, 9, 4, 4)).isEqualTo("holds page 9 version 4 but it fails its CRC32C (altered)");
        }
    }

    @Test
    void aFailedWriteIsNeverServed() throws Exception {
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), PAGES * PAGE, 16, true)) {
            disk.reserve(2);
            await(disk.whenWritten(writeSealed(disk, 3, 1)));
            disk.failWritesForTest(true);
            CompletableFuture<Void> failed = disk.whenWritten(writeSealed(disk, 3, 2));
            assertThatThrownBy(() -> failed.get(1, TimeUnit.MINUTES)).isInstanceOf(ExecutionException.class);
            assertThat(read(disk, 3, 2, 2)).isEqualTo("its last write of page 3 failed");
            assertThat(read(disk, 3, 1, 1)).isEqualTo("its last write of page 3 failed");
        }
    }

    @Test
    void clearAndSealedPagesNeverMix() throws Exception {
        ByteBuf page = Unpooled.directBuffer(PAGE).writeZero(PAGE);
        try (BackupDisk sealed = BackupDisk.open(dir.resolve("sealed"), PAGES * PAGE, 16, true);
             BackupDisk clear = BackupDisk.open(dir.resolve("clear"), PAGES * PAGE, 16)) {
            assertThatThrownBy(() -> sealed.write(1, page, 0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("takes none in clear");
            assertThatThrownBy(() -> sealed.read(1, 0, page, 0)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> sealed.writeSealed(1, 1, page, 0, page, 0))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("without a reserved slot");
            clear.reserve(1);
            assertThatThrownBy(() -> clear.writeSealed(1, 1, page, 0, page, 0))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("in clear");
            assertThatThrownBy(() -> clear.readSealed(1, 1, 0, page, 0, page, 0))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> sealed.reserve(17)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            page.release();
        }
    }

    /** Reserved slots count as taken: a reservation waits for them, and gets them once they are given back. */
    @Test
    void reservationsHoldSlotsUntilUsedOrGivenBack() throws Exception {
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), PAGES * PAGE, 4, true)) {
            disk.reserve(3);
            Thread waiter = new Thread(() -> {
                try {
                    disk.reserve(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            waiter.start();
            Await.until("the second reservation waiting for slots", Duration.ofMinutes(1),
                    () -> waiter.getState() == Thread.State.WAITING);
            disk.unreserve(2);
            waiter.join(TimeUnit.MINUTES.toMillis(1));
            assertThat(waiter.isAlive()).isFalse();
            // 1 + 2 reserved of 4: three sealed writes go in without waiting.
            writeSealed(disk, 1, 1);
            writeSealed(disk, 2, 1);
            await(disk.whenWritten(writeSealed(disk, 3, 1)));
            assertThat(read(disk, 2, 1, 1)).isNull();
        }
    }

    @Test
    void steadyStateSealedWritesAllocateNothing() throws Exception {
        ByteBuf page = PooledByteBufAllocator.DEFAULT.directBuffer(PAGE).writeZero(PAGE);
        ByteBuf tag = Unpooled.directBuffer(16).writeZero(16);
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), PAGES * PAGE, 64, true)) {
            long allocated = ThreadAllocation.of(() -> writeSealedRepeatedly(disk, page, tag, 30_000),
                    () -> writeSealedRepeatedly(disk, page, tag, 10_000));

            // Less than one byte per write: no object is made per reservation or write (the smallest is 16 bytes).
            assertThat(allocated).isLessThan(10_000);
        } finally {
            page.release();
            tag.release();
        }
    }

    /** As the engine does: a run of 8 pages reserved, then written one by one. */
    private static void writeSealedRepeatedly(BackupDisk disk, ByteBuf page, ByteBuf tag, int count)
            throws InterruptedException {
        for (int i = 0; i < count; i += 8) {
            disk.reserve(8);
            for (int j = 0; j < 8; j++) {
                disk.writeSealed((i + j) % PAGES, i + j + 1, page, 0, tag, 0);
            }
        }
    }
}
