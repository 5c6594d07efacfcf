package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * READ_INDEX_OK: per page, the version and CRC32C the donor holds. Body: {@code u64 slabId, u32 firstPage,
 * u32 count, count x (u64 version, u32 crc32c)}.
 */
public record PageIndex(long slabId, long firstPage, long[] versions, int[] crcs) implements MessageBody {
    public static final int HEADER_SIZE = 16;
    public static final int ENTRY_SIZE = 12;

    /** The most pages one READ_INDEX_OK of {@code maxFrameBytes} can describe. */
    public static int maxPages(int maxFrameBytes) {
        return (maxFrameBytes - FrameHeader.SIZE - HEADER_SIZE) / ENTRY_SIZE;
    }

    public int count() {
        return versions.length;
    }

    @Override
    public int encodedSize() {
        return HEADER_SIZE + ENTRY_SIZE * versions.length;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeInt((int) firstPage);
        out.writeInt(versions.length);
        for (int i = 0; i < versions.length; i++) {
            out.writeLong(versions[i]);
            out.writeInt(crcs[i]);
        }
    }

    public static PageIndex decode(ByteBuf body) {
        if (body.readableBytes() < HEADER_SIZE) {
            throw ProtocolException.badBody("READ_INDEX_OK body is " + body.readableBytes() + " bytes (expected >= "
                    + HEADER_SIZE + ")");
        }
        long slabId = body.readLong();
        long first = body.readUnsignedInt();
        long n = body.readUnsignedInt();
        Frames.requireLength(body, (int) Math.min(Integer.MAX_VALUE, n * ENTRY_SIZE), "READ_INDEX_OK entries");
        long[] versions = new long[(int) n];
        int[] crcs = new int[(int) n];
        for (int i = 0; i < n; i++) {
            versions[i] = body.readLong();
            crcs[i] = body.readInt();
        }
        return new PageIndex(slabId, first, versions, crcs);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PageIndex p && p.slabId == slabId && p.firstPage == firstPage
                && java.util.Arrays.equals(p.versions, versions) && java.util.Arrays.equals(p.crcs, crcs);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(slabId) * 31 + java.util.Arrays.hashCode(versions);
    }

    @Override
    public String toString() {
        return "PageIndex[slab " + slabId + ", pages " + firstPage + "+" + versions.length + "]";
    }
}
