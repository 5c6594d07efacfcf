package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * REGISTER_SLAB_OK (RDMA only): where a slab lies in the donor's memory and the key this connection alone may use
 * to reach it. Body: {@code u64 slabId, u64 address, u32 rkey, u32 pageCount}. Page {@code i}'s data is at
 * {@code address + 4096 i}; its metadata entry (u32 pageIndex, u32 crc32c, u64 version, 16-byte tag; big-endian) at
 * {@code address + 4096 pageCount + 32 i}.
 */
public record RemoteSlab(long slabId, long address, int rkey, int pageCount) implements MessageBody {
    public static final int SIZE = 24;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(slabId);
        out.writeLong(address);
        out.writeInt(rkey);
        out.writeInt(pageCount);
    }

    public static RemoteSlab decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "REGISTER_SLAB_OK");
        RemoteSlab r = new RemoteSlab(body.readLong(), body.readLong(), body.readInt(), body.readInt());
        if (r.pageCount <= 0) {
            throw ProtocolException.badBody("REGISTER_SLAB_OK with " + r.pageCount + " pages");
        }
        return r;
    }

    /** The remote address of page {@code pageIndex}'s data. */
    public long dataAddress(long pageIndex) {
        return address + pageIndex * FrameHeader.PAGE_SIZE;
    }

    /** The remote address of page {@code pageIndex}'s metadata entry. */
    public long metadataAddress(long pageIndex) {
        return address + (long) pageCount * FrameHeader.PAGE_SIZE + pageIndex * PageBatch.ENTRY_HEADER_SIZE;
    }
}
