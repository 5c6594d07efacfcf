package dev.valet.client.tier;

import io.netty.buffer.ByteBuf;
import org.agrona.collections.Long2LongHashMap;

/**
 * The tier's slots as the daemon sees them: which page each holds and what is happening to it, the index from a
 * page to the slot of its newest version, the free slots and the CLOCK that picks a clean slot to reuse. All of it
 * is rebuilt from {@link TierLayout} after a restart; all of it is preallocated. Not thread safe: callers hold the
 * tier's lock.
 *
 * <p>States (on the heap; the memory has FREE, DIRTY and CLEAN):
 * <ul>
 *   <li>{@link #FREE}: in the free list, FREE in memory.</li>
 *   <li>{@link #DIRTY}: the newest version of its page, not yet on the donors; DIRTY in memory. It may be
 *       {@link #flushing} (a backing write reads it now).</li>
 *   <li>{@link #CLEAN}: the newest version of its page, and on the donors (or read from them ahead of a swap-in);
 *       may be reused for another page once no read is copying it ({@link #pins}).</li>
 *   <li>{@link #FILLING}: read ahead from the donors now; FREE in memory, in no index.</li>
 *   <li>{@link #RETIRED}: an older version, FREE in memory, kept until the flush or reads using it end.</li>
 * </ul>
 * Copy-on-write: a slot's data is written only while it is FREE in memory and in no one's hands, so a flush or a
 * read can use a slot without a copy.
 */
final class SlotTable {
    static final byte FREE = 0;
    static final byte DIRTY = 1;
    static final byte CLEAN = 2;
    static final byte FILLING = 3;
    static final byte RETIRED = 4;
    static final int NONE = -1;

    final TierLayout layout;
    final int count;
    final byte[] state;
    final long[] page;
    /** A backing write from this slot is in flight. */
    final boolean[] flushing;
    /** Reads that will copy from this slot when their backing read ends. */
    final int[] pins;
    /** Read since the CLOCK hand last passed (one more chance before reuse). */
    final boolean[] referenced;
    /** Read ahead and not yet read. */
    final boolean[] unusedPrefetch;
    /** FILLING: its page was written meanwhile, so what the read brings is stale. */
    final boolean[] cancelled;
    /** Links slots into a caller's list of work to do after the lock is released. */
    final int[] next;

    private final int[] free;
    private int freeCount;
    private final Long2LongHashMap newest;
    private final Long2LongHashMap filling;
    private int hand;
    private int dirty;
    private int clean;
    private long nextVersion = 1;

    SlotTable(TierLayout layout, int maxFilling) {
        this.layout = layout;
        this.count = layout.slotCount();
        this.state = new byte[count];
        this.page = new long[count];
        this.flushing = new boolean[count];
        this.pins = new int[count];
        this.referenced = new boolean[count];
        this.unusedPrefetch = new boolean[count];
        this.cancelled = new boolean[count];
        this.next = new int[count];
        this.free = new int[count];
        // Sized so that they never grow: at most one entry per slot, at most maxFilling pages read ahead.
        this.newest = new Long2LongHashMap(2 * count, 0.6f, NONE);
        this.filling = new Long2LongHashMap(2 * Math.max(maxFilling, 1), 0.6f, NONE);
    }

    // ---- finding pages

    /** The slot of the newest version of {@code page} (DIRTY or CLEAN), or {@link #NONE}. */
    int newest(long page) {
        return (int) newest.get(page);
    }

    boolean isFilling(long page) {
        return filling.containsKey(page);
    }

    int dirty() {
        return dirty;
    }

    /** Dirty slots whose version is at most {@code version} (a scan: for occasional reports, not per request). */
    int dirtyUpTo(long version) {
        int n = 0;
        for (int s = 0; s < count; s++) {
            if (state[s] == DIRTY && layout.version(s) <= version) {
                n++;
            }
        }
        return n;
    }

    int clean() {
        return clean;
    }

    int free() {
        return freeCount;
    }

    // ---- taking and giving back

    /** A slot to write into (FREE in memory, its data unused), or {@link #NONE} if every slot is dirty or busy. */
    int take() {
        if (freeCount > 0) {
            return free[--freeCount];
        }
        return clean > 0 ? evictClean() : NONE;
    }

    /** CLOCK over the clean slots: a slot read since the hand last passed gets one more turn. */
    private int evictClean() {
        for (int steps = 0; steps < 2 * count; steps++) {
            int s = hand;
            hand = hand + 1 == count ? 0 : hand + 1;
            if (state[s] != CLEAN || pins[s] > 0) {
                continue;
            }
            if (referenced[s]) {
                referenced[s] = false;
                continue;
            }
            newest.remove(page[s]);
            clean--;
            layout.publish(s, TierLayout.FREE); // before its data is overwritten
            state[s] = FREE;
            unusedPrefetch[s] = false;
            return s;
        }
        return NONE; // every clean slot is pinned
    }

    /** Gives back a slot taken and not used, or one whose flush, fill or reads ended. */
    void giveBack(int slot) {
        state[slot] = FREE;
        unusedPrefetch[slot] = false;
        free[freeCount++] = slot;
    }

    // ---- writes

    /**
     * Makes {@code slot} (from {@link #take}) the newest version of {@code page}, DIRTY, with the data at {@code
     * src[srcIndex]}; the page's older slot is then released. In memory: data, entry, fence, DIRTY, fence, older
     * slot FREE.
     */
    void write(int slot, long page, ByteBuf src, int srcIndex) {
        layout.copyIn(slot, src, srcIndex);
        layout.describe(slot, page, nextVersion++);
        layout.publish(slot, TierLayout.DIRTY);
        this.page[slot] = page;
        state[slot] = DIRTY;
        referenced[slot] = false;
        dirty++;
        int older = (int) newest.put(page, slot);
        if (older != NONE) {
            release(older);
        }
        int prefetching = (int) filling.get(page);
        if (prefetching != NONE) {
            cancelled[prefetching] = true; // the write wins over what the read ahead brings
        }
    }

    /** An older version: FREE in memory at once; back in the free list once nothing uses it. */
    private void release(int slot) {
        layout.publish(slot, TierLayout.FREE);
        if (state[slot] == DIRTY) {
            dirty--;
        } else if (state[slot] == CLEAN) {
            clean--;
        }
        if (flushing[slot] || pins[slot] > 0) {
            state[slot] = RETIRED;
        } else {
            giveBack(slot);
        }
    }

    /** A RETIRED slot whose flush or reads may just have ended goes back to the free list if nothing uses it. */
    void releaseIfRetired(int slot) {
        if (state[slot] == RETIRED && !flushing[slot] && pins[slot] == 0) {
            giveBack(slot);
        }
    }

    // ---- flushes

    /** The slot's flush reached the donors: it is CLEAN if it is still its page's newest version. */
    void flushed(int slot) {
        if (state[slot] == DIRTY) {
            layout.publish(slot, TierLayout.CLEAN);
            state[slot] = CLEAN;
            dirty--;
            clean++;
        }
    }

    // ---- read-ahead

    /** {@code slot} (from {@link #take}) will receive {@code page} from the donors. */
    void startFill(int slot, long page) {
        this.page[slot] = page;
        state[slot] = FILLING;
        cancelled[slot] = false;
        filling.put(page, slot);
    }

    /**
     * The read ahead into {@code slot} ended: with {@code ok} and no write of its page meanwhile, the slot is the
     * page's CLEAN copy (marked read-ahead and referenced, so it survives one pass of the CLOCK); else it is freed.
     *
     * @return whether the page is now in the tier
     */
    boolean filled(int slot, boolean ok) {
        filling.remove(page[slot]);
        if (!ok || cancelled[slot] || newest.containsKey(page[slot])) {
            giveBack(slot);
            return false;
        }
        layout.describe(slot, page[slot], nextVersion++);
        layout.publish(slot, TierLayout.CLEAN);
        state[slot] = CLEAN;
        clean++;
        referenced[slot] = true;
        unusedPrefetch[slot] = true;
        newest.put(page[slot], slot);
        return true;
    }

    // ---- recovery

    /** A slot found DIRTY and intact in memory at open: the page's newest version if no other is newer. */
    void recoverDirty(int slot, long page, long version) {
        this.page[slot] = page;
        noteVersion(version);
        int other = (int) newest.get(page);
        if (other != NONE && layout.version(other) > version) {
            layout.publish(slot, TierLayout.FREE);
            giveBack(slot);
            return;
        }
        state[slot] = DIRTY;
        dirty++;
        newest.put(page, slot);
        if (other != NONE) {
            release(other);
        }
    }

    /** Makes the next version higher than {@code version}, found in memory at open. */
    void noteVersion(long version) {
        nextVersion = Math.max(nextVersion, version + 1);
    }

    /** A slot found FREE, CLEAN or damaged at open: FREE, as memory says from now on. */
    void recoverFree(int slot) {
        if (layout.state(slot) != TierLayout.FREE) {
            layout.publish(slot, TierLayout.FREE);
        }
        giveBack(slot);
    }

    long nextVersion() {
        return nextVersion;
    }
}
