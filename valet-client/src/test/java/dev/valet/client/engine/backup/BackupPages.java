package dev.valet.client.engine.backup;

import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PagePattern;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Test helpers: distinct, reproducible page contents and checked read-back. */
final class BackupPages {
    static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final long SEED = 0x5EEDL;

    private BackupPages() {
    }

    /** The content of version {@code version} of page {@code pageNo}. */
    static byte[] content(long pageNo, long version) {
        byte[] page = new byte[PAGE];
        PagePattern.fill(page, SEED, 0, pageNo, version);
        return page;
    }

    static int crc(long pageNo, long version) {
        return PageChecksum.crc32c(content(pageNo, version), 0);
    }

    /** Writes version {@code version} of the page from a reused buffer, at an offset to exercise srcIndex. */
    static long write(BackupDisk disk, ByteBuf scratch, long pageNo, long version) throws InterruptedException {
        scratch.setBytes(100, content(pageNo, version));
        return disk.write(pageNo, scratch, 100);
    }

    /** A buffer for {@link #write}: one page at index 100. */
    static ByteBuf scratch() {
        return Unpooled.directBuffer(PAGE + 200, PAGE + 200);
    }

    /** Asserts the disk returns exactly version {@code version} of the page. */
    static void assertHolds(BackupDisk disk, long pageNo, long version) throws Exception {
        ByteBuf dst = Unpooled.buffer(PAGE + 10);
        try {
            assertThat(disk.read(pageNo, crc(pageNo, version), dst, 10))
                    .as("page %d holds version %d", pageNo, version).isTrue();
            assertThat(ByteBufUtil.getBytes(dst, 10, PAGE)).isEqualTo(content(pageNo, version));
        } finally {
            dst.release();
        }
    }

    /** Waits for a future that must complete; the bound only turns a hang into a failure. */
    static void await(CompletableFuture<Void> future) throws Exception {
        future.get(1, TimeUnit.MINUTES);
    }
}
