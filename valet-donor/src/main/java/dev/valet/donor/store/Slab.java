package dev.valet.donor.store;

import dev.valet.common.posix.AnonymousMemory;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * One lent slab: its pages in an off-heap mapping, and per page the version and CRC32C the client sent with it.
 * All page access goes through {@link #lock()}-guarded methods, because a slab may be freed by one connection
 * while another (same owner) still uses it: a freed slab answers "gone" instead of touching unmapped memory.
 */
public final class Slab {
    /** CRC32C of a page of zeros: what a never-written page carries. */
    public static final int ZERO_PAGE_CRC = PageChecksum.crc32c(new byte[FrameHeader.PAGE_SIZE], 0);

    private final SlabKey key;
    private final AnonymousMemory memory;
    private final ByteBuf pages;
    private final long[] versions;
    private final int[] crcs;
    private final int pageCount;
    private final long allocatedNanos;
    private boolean freed;
    /** Whether any page was ever stored: a slab without one can be freed under pressure without asking anyone. */
    private boolean written;
    private long lastAccessNanos;

    Slab(SlabKey key, AnonymousMemory memory) {
        this.key = key;
        this.memory = memory;
        this.pages = memory.buffer();
        this.pageCount = (int) (memory.size() / FrameHeader.PAGE_SIZE);
        this.versions = new long[pageCount];
        this.crcs = new int[pageCount];
        Arrays.fill(crcs, ZERO_PAGE_CRC);
        this.allocatedNanos = System.nanoTime();
        this.lastAccessNanos = allocatedNanos;
    }

    /** When the slab was allocated ({@link System#nanoTime()}): what the {@code oldest} victim policy orders by. */
    public long allocatedNanos() {
        return allocatedNanos;
    }

    /** Caller holds {@link #lock()}. */
    public boolean hasWrittenPage() {
        return written;
    }

    public SlabKey key() {
        return key;
    }

    public long sizeBytes() {
        return memory.size();
    }

    public int pageCount() {
        return pageCount;
    }

    /** The monitor to hold around {@link #isFreed()} checks and page access. */
    public Object lock() {
        return this;
    }

    /** Caller holds {@link #lock()}. */
    public boolean isFreed() {
        return freed;
    }

    /** Caller holds {@link #lock()}. */
    public long version(int pageIndex) {
        return versions[pageIndex];
    }

    /** Caller holds {@link #lock()}. */
    public int crc(int pageIndex) {
        return crcs[pageIndex];
    }

    /** The page data buffer (index {@code pageIndex * 4096}). Caller holds {@link #lock()} while using it. */
    public ByteBuf pages() {
        return pages;
    }

    /** Stores one page. Caller holds {@link #lock()} and has checked the slab is not freed. */
    public void store(int pageIndex, long version, int crc, ByteBuf src, int srcIndex) {
        pages.setBytes(pageIndex * FrameHeader.PAGE_SIZE, src, srcIndex, FrameHeader.PAGE_SIZE);
        versions[pageIndex] = version;
        crcs[pageIndex] = crc;
        written = true;
    }

    /** Caller holds {@link #lock()}. */
    public void touch(long nowNanos) {
        lastAccessNanos = nowNanos;
    }

    /** When a page was last read or written: what the {@code least-active} victim policy orders by. */
    public long lastAccessNanos() {
        synchronized (lock()) {
            return lastAccessNanos;
        }
    }

    /** Unmaps the memory; later access sees {@link #isFreed()}. */
    void release() {
        synchronized (lock()) {
            if (!freed) {
                freed = true;
                memory.close();
            }
        }
    }
}
