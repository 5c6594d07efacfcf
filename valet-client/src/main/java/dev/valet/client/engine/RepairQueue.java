package dev.valet.client.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The slabs waiting for re-replication, most urgent first: a slab with no current copy (every copy suspended or
 * being brought up to date) is taken before any slab that still has one, since every request for it is held until
 * one of its copies is current again; among those, one whose requests are held now ({@link SlabEntry#markWanted})
 * comes first. Then a slab whose writes are held now (it has too few copies to acknowledge a write), then first
 * come, first served. A slab is in the queue at most once ({@link SlabEntry#markQueued}).
 */
final class RepairQueue {
    /** How recently a request must have been held for its slab to count as wanted (holds retry every 0.5 s). */
    static final long WANTED_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final ArrayDeque<SlabEntry> slabs = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();

    void add(SlabEntry slab) {
        lock.lock();
        try {
            slabs.addLast(slab);
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The first wanted slab with no current copy, else the first with no current copy, else the first wanted, else
     * the first queued; null if none came within the timeout. One thread takes; slab monitors are never taken under
     * the queue's lock (adders may hold one).
     */
    SlabEntry take(long timeout, TimeUnit unit) throws InterruptedException {
        List<SlabEntry> queued;
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (slabs.isEmpty()) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            queued = new ArrayList<>(slabs);
        } finally {
            lock.unlock();
        }
        SlabEntry chosen = null;
        SlabEntry wanted = null;
        for (SlabEntry s : queued) {
            boolean isWanted = s.isWanted(WANTED_NANOS);
            if (s.replicas().isEmpty()) {
                if (isWanted) {
                    chosen = s;
                    break;
                }
                if (chosen == null) {
                    chosen = s;
                }
            } else if (isWanted && wanted == null) {
                wanted = s;
            }
        }
        if (chosen == null) {
            chosen = wanted != null ? wanted : queued.get(0);
        }
        lock.lock();
        try {
            slabs.remove(chosen);
        } finally {
            lock.unlock();
        }
        return chosen;
    }

    /** Whether a queued slab has no current copy. */
    boolean hasUrgent() {
        List<SlabEntry> queued;
        lock.lock();
        try {
            queued = new ArrayList<>(slabs);
        } finally {
            lock.unlock();
        }
        for (SlabEntry s : queued) {
            if (s.replicas().isEmpty()) {
                return true;
            }
        }
        return false;
    }

    int size() {
        lock.lock();
        try {
            return slabs.size();
        } finally {
            lock.unlock();
        }
    }
}
