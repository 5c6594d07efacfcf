package dev.valet.donor.store;

import dev.valet.common.posix.AnonymousMemory;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBytes;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;

/**
 * One lent slab: its pages in an off-heap mapping, and per page the version and CRC32C the client sent with it.
 * The mapping is laid out so an RDMA client can write and read it one-sidedly, metadata included:
 * {@code pageCount} pages of 4096 bytes, then a metadata area of {@link #METADATA_ENTRY_SIZE} bytes per page,
 * each {@code u32 pageIndex, u32 crc32c, u64 version, 16 bytes tag}, big-endian: the 32-byte entry header of a
 * PageBatch (the tag is the client's AES-GCM tag, opaque here). A
 * version of 0 means never written (the CRC is then that of a zero page, whatever the entry holds).
 * All page access goes through {@link #lock()}-guarded methods, because a slab may be freed by one connection
 * while another (same owner) still uses it: a freed slab answers "gone" instead of touching unmapped memory.
 */
public final class Slab {
    /** CRC32C of a page of zeros: what a never-written page carries. */
    public static final int ZERO_PAGE_CRC = PageChecksum.ZERO_PAGE_CRC;
    /** Bytes of metadata per page, after the data area. */
    public static final int METADATA_ENTRY_SIZE = PageBatch.ENTRY_HEADER_SIZE;
    private static final int META_PAGE_INDEX = 0;
    private static final int META_CRC = 4;
    private static final int META_VERSION = 8;
    private static final int META_TAG = 16;

    private final SlabKey key;
    private final AnonymousMemory memory;
    private final ByteBuf pages;
    private final int pageCount;
    private final int metadataOffset;
    private final long allocatedNanos;
    private boolean freed;
    /** Whether any page was ever stored: a slab without one can be freed under pressure without asking anyone. */
    private boolean written;
    private long lastAccessNanos;

    /** {@code memory} holds {@link #mappedBytes(long)} for a slab of {@code dataBytes}. */
    Slab(SlabKey key, AnonymousMemory memory, long dataBytes) {
        this.key = key;
        this.memory = memory;
        this.pages = memory.buffer();
        this.pageCount = (int) (dataBytes / FrameHeader.PAGE_SIZE);
        this.metadataOffset = pageCount * FrameHeader.PAGE_SIZE;
        if (memory.size() < mappedBytes(dataBytes)) {
            throw new IllegalArgumentException("mapping of " + memory.size() + " bytes cannot hold a slab of "
                    + dataBytes);
        }
        this.allocatedNanos = System.nanoTime();
        this.lastAccessNanos = allocatedNanos;
    }

    /** When the slab was allocated ({@link System#nanoTime()}): what the {@code oldest} victim policy orders by. */
    public long allocatedNanos() {
        return allocatedNanos;
    }

    /**
     * Whether a page may have been written: one was stored here, or the slab was handed out for one-sided RDMA
     * writes, which this side never sees. A slab without either can be freed under pressure without asking anyone.
     * Caller holds {@link #lock()}.
     */
    public boolean hasWrittenPage() {
        return written;
    }

    /**
     * The slab is registered for one-sided RDMA access: from now on it counts as written, since its owner may write
     * it without this side seeing it. Caller holds {@link #lock()}.
     */
    public void markRemotelyWritable() {
        written = true;
    }

    /** The mapping size of a slab of {@code dataBytes}: the pages and their metadata area. */
    public static long mappedBytes(long dataBytes) {
        return dataBytes + dataBytes / FrameHeader.PAGE_SIZE * METADATA_ENTRY_SIZE;
    }

    public SlabKey key() {
        return key;
    }

    /** The lent size: the pages, without the metadata area. */
    public long sizeBytes() {
        return (long) pageCount * FrameHeader.PAGE_SIZE;
    }

    /** Where the mapping starts (pages, then metadata), for RDMA registration. */
    public long address() {
        return memory.address();
    }

    /** The whole mapping's size (pages and metadata). */
    public long mappedBytes() {
        return memory.size();
    }

    /** Offset of the metadata area from {@link #address()}. */
    public long metadataOffset() {
        return metadataOffset;
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
        return pages.getLong(metadataOffset + pageIndex * METADATA_ENTRY_SIZE + META_VERSION);
    }

    /** Caller holds {@link #lock()}. */
    public int crc(int pageIndex) {
        int meta = metadataOffset + pageIndex * METADATA_ENTRY_SIZE;
        return pages.getLong(meta + META_VERSION) == 0 ? ZERO_PAGE_CRC : pages.getInt(meta + META_CRC);
    }

    /** Absolute index in {@link #pages()} of the page's stored tag. Caller holds {@link #lock()}. */
    public int tagIndex(int pageIndex) {
        return metadataOffset + pageIndex * METADATA_ENTRY_SIZE + META_TAG;
    }

    /** The page data buffer (index {@code pageIndex * 4096}). Caller holds {@link #lock()} while using it. */
    public ByteBuf pages() {
        return pages;
    }

    /** Stores one page with a tag of zeros. Caller holds {@link #lock()} and has checked the slab is not freed. */
    public void store(int pageIndex, long version, int crc, ByteBuf src, int srcIndex) {
        PageBytes.copy(src, srcIndex, pages, pageIndex * FrameHeader.PAGE_SIZE);
        pages.setZero(tagIndex(pageIndex), PageBatch.TAG_SIZE);
        storeEntry(pageIndex, version, crc);
    }

    /**
     * Stores one page and its tag ({@value PageBatch#TAG_SIZE} bytes of {@code tags} at {@code tagIndex}). Caller
     * holds {@link #lock()} and has checked the slab is not freed.
     */
    public void store(int pageIndex, long version, int crc, ByteBuf tags, int tagIndex, ByteBuf src, int srcIndex) {
        PageBytes.copy(src, srcIndex, pages, pageIndex * FrameHeader.PAGE_SIZE);
        PageBytes.copy(tags, tagIndex, pages, tagIndex(pageIndex), PageBatch.TAG_SIZE);
        storeEntry(pageIndex, version, crc);
    }

    private void storeEntry(int pageIndex, long version, int crc) {
        int meta = metadataOffset + pageIndex * METADATA_ENTRY_SIZE;
        pages.setInt(meta + META_PAGE_INDEX, pageIndex);
        pages.setInt(meta + META_CRC, crc);
        pages.setLong(meta + META_VERSION, version);
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
