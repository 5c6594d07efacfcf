package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * LIST_SLABS_OK: the slabs this client identity owns on the donor, so a restarted client can find its pages.
 * Body: {@code u32 count, count x (u64 slabId, u64 slabBytes)}.
 */
public record SlabList(List<Entry> slabs) implements MessageBody {
    public static final int ENTRY_SIZE = 16;

    /** One slab: its id and size. */
    public record Entry(long slabId, long slabBytes) {
    }

    public SlabList {
        slabs = List.copyOf(slabs);
    }

    /** The most entries that fit in one frame of {@code maxFrameBytes}. */
    public static int maxEntries(int maxFrameBytes) {
        return (maxFrameBytes - FrameHeader.SIZE - 4) / ENTRY_SIZE;
    }

    @Override
    public int encodedSize() {
        return 4 + ENTRY_SIZE * slabs.size();
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(slabs.size());
        for (Entry e : slabs) {
            out.writeLong(e.slabId());
            out.writeLong(e.slabBytes());
        }
    }

    public static SlabList decode(ByteBuf body) {
        if (body.readableBytes() < 4) {
            throw ProtocolException.badBody("LIST_SLABS_OK body is " + body.readableBytes() + " bytes (expected >= 4)");
        }
        long n = body.readUnsignedInt();
        Frames.requireLength(body, (int) Math.min(Integer.MAX_VALUE, n * ENTRY_SIZE), "LIST_SLABS_OK entries");
        List<Entry> slabs = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            slabs.add(new Entry(body.readLong(), body.readLong()));
        }
        return new SlabList(slabs);
    }
}
