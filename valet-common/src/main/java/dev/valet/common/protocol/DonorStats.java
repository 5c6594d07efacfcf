package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * STATS_OK: what a donor reports for ranking and for operators. Body, 56 bytes: {@code u64 lendLimitBytes,
 * u64 lentBytes, u64 offeredBytes, u64 freeMemoryBytes, i64 freeMemoryGradient, u32 slabCount, u32 clientCount,
 * u64 pageOpsPerSecond}.
 *
 * @param lendLimitBytes      the most this donor lends ({@code memory} in donor.yaml)
 * @param lentBytes           bytes currently allocated to slabs
 * @param offeredBytes        bytes it will still lend now: the limit less what is lent, capped by free memory
 * @param freeMemoryBytes     the host's MemAvailable, smoothed (EWMA)
 * @param freeMemoryGradient  how fast that changes, bytes per second (negative: shrinking)
 * @param slabCount           slabs allocated, all clients
 * @param clientCount         client connections that said HELLO
 * @param pageOpsPerSecond    pages read and written in the last sampling interval, per second
 */
public record DonorStats(long lendLimitBytes, long lentBytes, long offeredBytes, long freeMemoryBytes,
                         long freeMemoryGradient, int slabCount, int clientCount, long pageOpsPerSecond)
        implements MessageBody {
    public static final int SIZE = 56;

    @Override
    public int encodedSize() {
        return SIZE;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(lendLimitBytes);
        out.writeLong(lentBytes);
        out.writeLong(offeredBytes);
        out.writeLong(freeMemoryBytes);
        out.writeLong(freeMemoryGradient);
        out.writeInt(slabCount);
        out.writeInt(clientCount);
        out.writeLong(pageOpsPerSecond);
    }

    public static DonorStats decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "STATS_OK");
        return new DonorStats(body.readLong(), body.readLong(), body.readLong(), body.readLong(), body.readLong(),
                body.readInt(), body.readInt(), body.readLong());
    }
}
