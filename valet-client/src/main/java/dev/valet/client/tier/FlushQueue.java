package dev.valet.client.tier;

/**
 * The slots waiting to be written to the donors, oldest first: a ring of slots made dirty and a ring of slots
 * whose write failed, each due again at its own time. A slot is in at most one ring at a time, so neither can
 * overflow. An entry may go stale (its slot superseded, or freed and reused) and is then skipped by whoever polls
 * it: checking at poll time is cheaper than finding the entry at every change. Not thread safe: callers hold the
 * tier's lock.
 */
final class FlushQueue {
    private final int[] dirty;
    private int dirtyHead;
    private int dirtySize;
    private final int[] retry;
    private int retryHead;
    private int retrySize;
    private final boolean[] queued;
    private final long[] dueAt;

    FlushQueue(int slots) {
        this.dirty = new int[slots];
        this.retry = new int[slots];
        this.queued = new boolean[slots];
        this.dueAt = new long[slots];
    }

    /** Queues a slot just made dirty (or whose older flush just ended), unless it is queued already. */
    void add(int slot) {
        if (!queued[slot]) {
            queued[slot] = true;
            dirty[(dirtyHead + dirtySize++) % dirty.length] = slot;
        }
    }

    /** Queues a slot whose write failed, to be polled again from {@code atNanos} ({@link System#nanoTime}). */
    void retryAt(int slot, long atNanos) {
        if (!queued[slot]) {
            queued[slot] = true;
            dueAt[slot] = atNanos;
            retry[(retryHead + retrySize++) % retry.length] = slot;
        }
    }

    /** The next slot to consider at {@code nowNanos}: a retry that is due, else the oldest dirty; or -1. */
    int poll(long nowNanos) {
        int slot;
        if (retrySize > 0 && dueAt[retry[retryHead]] - nowNanos <= 0) {
            slot = retry[retryHead];
            retryHead = (retryHead + 1) % retry.length;
            retrySize--;
        } else if (dirtySize > 0) {
            slot = dirty[dirtyHead];
            dirtyHead = (dirtyHead + 1) % dirty.length;
            dirtySize--;
        } else {
            return SlotTable.NONE;
        }
        queued[slot] = false;
        return slot;
    }

    /** Slots waiting for their retry time. */
    int retries() {
        return retrySize;
    }
}
