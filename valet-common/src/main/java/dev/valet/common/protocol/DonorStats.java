package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * STATS_OK: what a donor reports for ranking and for operators. Body, 96 bytes: {@code u64 lendLimitBytes,
 * u64 lentBytes, u64 offeredBytes, u64 freeMemoryBytes, i64 freeMemoryGradient, u32 slabCount, u32 clientCount,
 * u64 pageOpsPerSecond, u64 evictionsRequested, u64 evictionsCompleted, u64 evictionsTimedOut,
 * u64 evictionsDeclined, u64 unusedSlabsReclaimed}.
 *
 * @param lendLimitBytes       the most this donor lends ({@code memory} in donor.yaml)
 * @param lentBytes            bytes currently allocated to slabs (its memory used)
 * @param offeredBytes         bytes it will still lend now: 0 under memory pressure, else the limit less what is
 *                             lent, capped by the free memory above {@code headroom.evictBelow}
 * @param freeMemoryBytes      the host's MemAvailable, smoothed (EWMA)
 * @param freeMemoryGradient   how fast that changes, bytes per second (negative: shrinking)
 * @param slabCount            slabs allocated, all clients
 * @param clientCount          client connections that said HELLO
 * @param pageOpsPerSecond     pages read and written in the last sampling interval, per second
 * @param evictionsRequested   EVICTs sent to clients since the donor started
 * @param evictionsCompleted   evicted slabs the owner moved away and freed (FREE_SLAB)
 * @param evictionsTimedOut    victims kept because the owner did not confirm by the deadline or was not connected
 * @param evictionsDeclined    victims kept because the owner declined (nowhere to put them)
 * @param unusedSlabsReclaimed slabs with no written page freed at once under pressure
 */
public record DonorStats(long lendLimitBytes, long lentBytes, long offeredBytes, long freeMemoryBytes,
                         long freeMemoryGradient, int slabCount, int clientCount, long pageOpsPerSecond,
                         long evictionsRequested, long evictionsCompleted, long evictionsTimedOut,
                         long evictionsDeclined, long unusedSlabsReclaimed)
        implements MessageBody {
    public static final int SIZE = 96;

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
        out.writeLong(evictionsRequested);
        out.writeLong(evictionsCompleted);
        out.writeLong(evictionsTimedOut);
        out.writeLong(evictionsDeclined);
        out.writeLong(unusedSlabsReclaimed);
    }

    public static DonorStats decode(ByteBuf body) {
        Frames.requireLength(body, SIZE, "STATS_OK");
        return new DonorStats(body.readLong(), body.readLong(), body.readLong(), body.readLong(), body.readLong(),
                body.readInt(), body.readInt(), body.readLong(), body.readLong(), body.readLong(), body.readLong(),
                body.readLong(), body.readLong());
    }
}
