package dev.valet.memory.pages;

import java.util.Arrays;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Read-write locks striped over the pages: a write of part of a page (read, change, write back) must not interleave
 * with another write or a read of that page, and neither may two engine requests for one page (the engine's reader
 * would take a copy that is newer than it expected for a stale one). Reads share. A batch locks the stripes of all
 * its pages at once, in stripe order, so two batches never wait for each other in a circle; consecutive pages fall
 * in different stripes, so regions of up to {@value #STRIPES} pages side by side do not contend.
 */
final class PageLocks {
    static final int STRIPES = 4096;

    private final ReadWriteLock[] stripes = new ReadWriteLock[STRIPES];

    PageLocks() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantReadWriteLock();
        }
    }

    /** Locks the stripes of {@code pages} (shared for a read, exclusive for a write); what to pass to unlock. */
    int[] lock(long[] pages, int count, boolean exclusive) {
        int[] held = new int[Math.min(count, STRIPES)];
        int n = 0;
        if (count >= STRIPES) {
            for (int s = 0; s < STRIPES; s++) {
                held[n++] = s;
            }
        } else {
            int[] all = new int[count];
            for (int i = 0; i < count; i++) {
                all[i] = (int) (pages[i] & (STRIPES - 1));
            }
            Arrays.sort(all);
            for (int i = 0; i < count; i++) {
                if (n == 0 || held[n - 1] != all[i]) {
                    held[n++] = all[i];
                }
            }
        }
        int[] stripesHeld = Arrays.copyOf(held, n);
        for (int s : stripesHeld) {
            (exclusive ? stripes[s].writeLock() : stripes[s].readLock()).lock();
        }
        return stripesHeld;
    }

    void unlock(int[] held, boolean exclusive) {
        for (int i = held.length - 1; i >= 0; i--) {
            (exclusive ? stripes[held[i]].writeLock() : stripes[held[i]].readLock()).unlock();
        }
    }
}
