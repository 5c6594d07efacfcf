package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;

/**
 * A swap-in of several pages of which some are in the tier and some are not: all of them are read from the donors
 * into the caller's buffer, and then the tier's pages (newer than what the donors may have) are laid over it. The
 * tier's slots are pinned meanwhile, so that a flush ending and the CLOCK reusing a slot cannot take a page away
 * before it is copied. Pooled ({@link RecordPool}): the tier takes one per such read and gives it back when the read
 * ends.
 */
final class PartialRead implements PageIoDone {
    /** What the read's end calls: the tier, which lays its pages over and tells the caller. */
    @FunctionalInterface
    interface Ending {
        void partialReadDone(PartialRead read, Throwable error);
    }

    private final Ending ending;
    long firstPage;
    int count;
    ByteBuf dst;
    int dstIndex;
    PageIoDone done;
    /** Per page of the read: the slot pinned for it, or {@link SlotTable#NONE} for a page the tier did not have. */
    int[] pinned;

    PartialRead(Ending ending, int pages) {
        this.ending = ending;
        this.pinned = new int[pages];
    }

    void start(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        this.firstPage = firstPage;
        this.count = count;
        this.dst = dst;
        this.dstIndex = dstIndex;
        this.done = done;
        if (pinned.length < count) {
            pinned = new int[count]; // a longer request than any before: kept for the next
        }
    }

    @Override
    public void pageIoDone(Throwable error) {
        ending.partialReadDone(this, error);
    }

    /** Lets go of the caller's buffer and answer, before the record goes back to its pool. */
    void clear() {
        dst = null;
        done = null;
    }
}
