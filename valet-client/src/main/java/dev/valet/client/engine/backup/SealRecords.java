package dev.valet.client.engine.backup;

import dev.valet.common.crypto.PageCipher;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The seal records of a backup disk that holds encrypted pages: for every page, the version it was encrypted under
 * and its AES-GCM tag, which the ciphertext alone cannot be read back without.
 *
 * <p>Layout: after the page area ({@code pages × 4096} bytes), one {@value #RECORD}-byte record per page, page
 * {@code p}'s at {@code pages × 4096 + p × 32}: the version (u64, big-endian), the tag (16 bytes), 8 bytes of
 * zeros. The region is rounded up to 4 KiB: a disk of {@code sizeBytes} for the pages needs
 * {@link #diskBytes}{@code (sizeBytes)}, 1/128 more.
 *
 * <p>The records of a ring slot are kept in a ring of their own beside the page ring, filled with the page under
 * the disk's lock and written by the writer thread right after the run of pages, at the run's records (consecutive
 * pages have consecutive records, so a run's records are one positional write too).
 */
final class SealRecords {
    /** Bytes per page's record. */
    static final int RECORD = 32;
    private static final int TAG_AT = 8;
    private static final int PAGE = FrameHeader.PAGE_SIZE;

    /** Where the records start: right after the page area. */
    private final long start;
    // fillView is used under the disk's lock by callers of writeSealed, drainView only by the writer thread.
    private final ByteBuffer fillView;
    private final ByteBuffer drainView;
    /** For reads; guarded by the disk's read lock. */
    private final ByteBuffer readRecord = ByteBuffer.allocate(RECORD);

    SealRecords(long pages, int slots) {
        this.start = pages * PAGE;
        ByteBuffer ring = ByteBuffer.allocateDirect(slots * RECORD);
        this.fillView = ring.duplicate();
        this.drainView = ring.duplicate();
    }

    /** Bytes a disk of encrypted pages needs for {@code pageBytes} of pages: the pages, then their records. */
    static long diskBytes(long pageBytes) {
        long records = pageBytes / PAGE * RECORD;
        return pageBytes + (records + PAGE - 1) / PAGE * PAGE;
    }

    /** Puts the record of the page going into {@code slot}: {@code version} and the tag at {@code tags[tagIndex]}. */
    void fill(int slot, long version, ByteBuf tags, int tagIndex) {
        int at = slot * RECORD;
        fillView.limit(fillView.capacity());
        fillView.putLong(at, version);
        tags.getBytes(tagIndex, fillView.limit(at + TAG_AT + PageCipher.TAG_BYTES).position(at + TAG_AT));
        fillView.limit(fillView.capacity());
        fillView.putLong(at + TAG_AT + PageCipher.TAG_BYTES, 0);
    }

    /** Writes the records of the run of {@code count} slots from {@code slot}, pages from {@code firstPage} on. */
    void writeRun(FileChannel channel, int slot, int count, long firstPage) throws IOException {
        int at = slot * RECORD;
        drainView.limit(at + count * RECORD).position(at);
        long position = start + firstPage * RECORD;
        while (drainView.hasRemaining()) {
            position += channel.write(drainView, position);
        }
    }

    /**
     * Reads page {@code pageNo}: its ciphertext into {@code dst} (via {@code page}) and its record's tag into
     * {@code tagDst}; null if it is {@code expectedVersion} with the CRC32C {@code expectedCrc}, else why not. Caller
     * holds the disk's read lock, which guards {@code page} too.
     */
    String read(RandomAccessFile file, long pageNo, long expectedVersion, int expectedCrc, byte[] page,
                ByteBuf dst, int dstIndex, ByteBuf tagDst, int tagIndex) throws IOException {
        file.seek(start + pageNo * RECORD);
        file.readFully(readRecord.array());
        long version = readRecord.getLong(0);
        if (version != expectedVersion) {
            return "holds page " + pageNo + " version " + version + ", not " + expectedVersion;
        }
        file.seek(pageNo * PAGE);
        file.readFully(page);
        if (PageChecksum.crc32c(page, 0) != expectedCrc) {
            return "holds page " + pageNo + " version " + version + " but it fails its CRC32C (altered)";
        }
        dst.setBytes(dstIndex, page);
        tagDst.setBytes(tagIndex, readRecord.array(), TAG_AT, PageCipher.TAG_BYTES);
        return null;
    }
}
