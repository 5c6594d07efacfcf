package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Writes a WRITE_PAGES or READ_PAGES_OK frame in place, page by page (layout in {@link PageBatch}). Reusable:
 * {@link #begin}, any number of {@code add}s, {@link #finish}. The caller supplies each page's CRC32C, computed
 * once where the page enters the system, so it is checked end to end rather than recomputed per hop.
 */
public final class PageBatchEncoder {
    private ByteBuf out;
    private int frameStart;
    private int countIndex;
    private int count;

    /** The frame size of a batch of {@code pages} pages. */
    public static int frameSize(int pages) {
        return (int) (FrameHeader.SIZE + PageBatch.bodySize(pages));
    }

    public PageBatchEncoder begin(ByteBuf out, Opcode opcode, long requestId, long slabId) {
        this.out = out;
        this.frameStart = Frames.begin(out, opcode, requestId);
        out.writeLong(slabId);
        this.countIndex = out.writerIndex();
        out.writeInt(0);
        this.count = 0;
        return this;
    }

    /**
     * Appends one page whose data is the 4096 bytes of {@code src} at absolute index {@code srcIndex}, with a tag of
     * zeros (a page the client does not encrypt).
     */
    public PageBatchEncoder add(long pageIndex, long version, int crc, ByteBuf src, int srcIndex) {
        writeEntryHeader(pageIndex, version, crc);
        out.writeZero(PageBatch.TAG_SIZE);
        return addData(src, srcIndex);
    }

    /**
     * Appends one page whose data is the 4096 bytes of {@code src} at {@code srcIndex} and whose tag is the
     * {@value PageBatch#TAG_SIZE} bytes of {@code tags} at {@code tagIndex} (absolute indexes).
     */
    public PageBatchEncoder add(long pageIndex, long version, int crc, ByteBuf tags, int tagIndex, ByteBuf src,
                                int srcIndex) {
        writeEntryHeader(pageIndex, version, crc);
        out.ensureWritable(PageBatch.TAG_SIZE);
        int at = out.writerIndex();
        PageBytes.copy(tags, tagIndex, out, at, PageBatch.TAG_SIZE);
        out.writerIndex(at + PageBatch.TAG_SIZE);
        return addData(src, srcIndex);
    }

    /** Appends page {@code i} of {@code pages} as it is: index, version, CRC32C, tag and data. */
    public PageBatchEncoder add(PageBatch pages, int i) {
        return add(pages.pageIndex(i), pages.version(i), pages.crc(i), pages.buffer(), pages.tagIndex(i),
                pages.buffer(), pages.dataIndex(i));
    }

    private PageBatchEncoder addData(ByteBuf src, int srcIndex) {
        out.ensureWritable(FrameHeader.PAGE_SIZE);
        int at = out.writerIndex();
        PageBytes.copy(src, srcIndex, out, at);
        out.writerIndex(at + FrameHeader.PAGE_SIZE);
        return this;
    }

    /** Appends one page whose data is {@code src[offset .. offset + 4096)}. */
    public PageBatchEncoder add(long pageIndex, long version, int crc, byte[] src, int offset) {
        writeEntryHeader(pageIndex, version, crc);
        out.writeZero(PageBatch.TAG_SIZE);
        out.writeBytes(src, offset, FrameHeader.PAGE_SIZE);
        return this;
    }

    private void writeEntryHeader(long pageIndex, long version, int crc) {
        out.writeInt((int) pageIndex);
        out.writeInt(crc);
        out.writeLong(version);
        count++;
    }

    public int count() {
        return count;
    }

    /** Where the next page's entry goes: with {@link #count()}, what {@link #rewind} takes back to. */
    public int writerIndex() {
        return out.writerIndex();
    }

    /** Drops the pages added since {@link #count()} was {@code count} and the writer index {@code writerIndex}. */
    public void rewind(int count, int writerIndex) {
        this.count = count;
        out.writerIndex(writerIndex);
    }

    /** Patches the count and the frame length; returns the number of pages written. */
    public int finish() {
        out.setInt(countIndex, count);
        Frames.finish(out, frameStart);
        int n = count;
        out = null;
        return n;
    }
}
