package dev.valet.client.kernel;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The request slots of a {@link KernelChannel}, all allocated when it starts: per slot the request's cookie, op
 * and status in parallel arrays, indexed by slot number. A slot holds no data: since VALET version 2 a request's
 * pages are in the device's {@link DataArea}, where the driver put them (writes) or wants them (reads).
 *
 * <p>Two intrusive lock-free lists move slots between threads without allocating:
 * <ul>
 *   <li>free: the sender {@link #release}s a slot once its completion is encoded; the receiver {@link #acquire}s.
 *       The receiver takes the whole shared list at once into a private one, so there is no ABA problem.</li>
 *   <li>ready: whoever completes a request (an engine thread, or the receiver for FLUSH and refused requests)
 *       {@link #pushReady pushes} its slot; the sender {@link #takeReady takes} the whole list at once.</li>
 * </ul>
 * A slot is on at most one list at a time; the CAS that publishes it orders the plain array writes before it.
 */
final class SlotPool {
    static final int NONE = -1;

    private final int slots;

    final long[] cookie;
    final int[] op;
    final int[] status;
    /** When the request went to the engine ({@link System#nanoTime}), for the time it spent there. */
    final long[] engineStart;

    private final int[] freeNext;
    private final AtomicInteger freeHead = new AtomicInteger(NONE);
    private int privateFree = NONE;
    private final int[] readyNext;
    private final AtomicInteger readyHead = new AtomicInteger(NONE);

    SlotPool(int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("slots " + slots);
        }
        this.slots = slots;
        cookie = new long[slots];
        op = new int[slots];
        status = new int[slots];
        engineStart = new long[slots];
        freeNext = new int[slots];
        readyNext = new int[slots];
        for (int s = 0; s < slots; s++) {
            freeNext[s] = s + 1 < slots ? s + 1 : NONE;
            readyNext[s] = NONE;
        }
        privateFree = 0;
    }

    int slots() {
        return slots;
    }

    /** Bytes of the per-slot arrays. */
    long bytes() {
        return (long) slots * (Long.BYTES + 4 * Integer.BYTES);
    }

    /** Receiver only: a free slot, or {@link #NONE} when all are in use. */
    int acquire() {
        if (privateFree == NONE) {
            privateFree = freeHead.getAndSet(NONE);
            if (privateFree == NONE) {
                return NONE;
            }
        }
        int slot = privateFree;
        privateFree = freeNext[slot];
        freeNext[slot] = NONE;
        return slot;
    }

    /** Sender only: gives a slot back. */
    void release(int slot) {
        int head;
        do {
            head = freeHead.get();
            freeNext[slot] = head;
        } while (!freeHead.compareAndSet(head, slot));
    }

    /** Any thread: queues a completed slot for the sender; true when the list was empty (wake the sender). */
    boolean pushReady(int slot) {
        int head;
        do {
            head = readyHead.get();
            readyNext[slot] = head;
        } while (!readyHead.compareAndSet(head, slot));
        return head == NONE;
    }

    /**
     * Sender only: takes every ready slot, oldest first; walk the chain with {@link #nextReady} (read it before
     * releasing the slot). {@link #NONE} when nothing is ready.
     */
    int takeReady() {
        int slot = readyHead.getAndSet(NONE);
        int previous = NONE;
        while (slot != NONE) { // the list is newest first: reverse it
            int next = readyNext[slot];
            readyNext[slot] = previous;
            previous = slot;
            slot = next;
        }
        return previous;
    }

    int nextReady(int slot) {
        return readyNext[slot];
    }
}
