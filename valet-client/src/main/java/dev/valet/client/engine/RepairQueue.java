package dev.valet.client.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The slabs waiting for re-replication, most urgent first: a slab with no current copy (every copy suspended or
 * being brought up to date) is taken before any slab that still has one, since requests for it are held until one
 * of its copies is current again. Otherwise first come, first served. A slab is in the queue at most once
 * ({@link SlabEntry#markQueued}).
 */
final class RepairQueue {
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
     * The first slab with no current copy, else the first queued; null if none came within the timeout. One thread
     * takes; slab monitors are never taken under the queue's lock (adders may hold one).
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
        SlabEntry chosen = queued.get(0);
        for (SlabEntry s : queued) {
            if (s.replicas().isEmpty()) {
                chosen = s;
                break;
            }
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
