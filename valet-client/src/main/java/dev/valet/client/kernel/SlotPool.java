package dev.valet.client.kernel;

import dev.valet.common.posix.AnonymousMemory;
import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

import com.kenai.jffi.MemoryIO;

/**
 * The request slots of a {@link KernelChannel}, all allocated when it starts: per slot {@link ValetGenl#MAX_IO_BYTES}
 * of off-heap data (anonymous mappings of up to 1 GiB each, touched at once so that no page is faulted in later)
 * and the request's cookie, op, length and status in parallel arrays, indexed by slot number.
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
final class SlotPool implements AutoCloseable {
    static final int NONE = -1;
    static final int SLOT_BYTES = ValetGenl.MAX_IO_BYTES;
    /** Slots per mapping: 1 GiB, well under a ByteBuffer's 2 GiB limit. */
    static final int SLOTS_PER_CHUNK = 16384;

    private final int slots;
    private final AnonymousMemory[] chunks;
    private final ByteBuf[] chunkBufs;
    private final ByteBuffer[] chunkViews;

    final long[] cookie;
    final int[] op;
    /** Bytes of data the completion carries back (a successful read's length), else 0. */
    final int[] length;
    final int[] status;

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
        int chunkCount = (slots + SLOTS_PER_CHUNK - 1) / SLOTS_PER_CHUNK;
        chunks = new AnonymousMemory[chunkCount];
        chunkBufs = new ByteBuf[chunkCount];
        chunkViews = new ByteBuffer[chunkCount];
        try {
            for (int c = 0; c < chunkCount; c++) {
                int inChunk = Math.min(SLOTS_PER_CHUNK, slots - c * SLOTS_PER_CHUNK);
                long bytes = (long) inChunk * SLOT_BYTES;
                chunks[c] = AnonymousMemory.map(bytes, false);
                chunkBufs[c] = chunks[c].buffer();
                chunkViews[c] = MemoryIO.getInstance().newDirectByteBuffer(chunks[c].address(), (int) bytes);
                for (int at = 0; at < bytes; at += 4096) {
                    chunkViews[c].put(at, (byte) 0); // fault every page in now, not on the paging path
                }
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        cookie = new long[slots];
        op = new int[slots];
        length = new int[slots];
        status = new int[slots];
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

    long bytes() {
        return (long) slots * SLOT_BYTES;
    }

    /** The netty buffer a slot's data is in (handed to the engine), and the slot's index in it. */
    ByteBuf buffer(int slot) {
        return chunkBufs[slot / SLOTS_PER_CHUNK];
    }

    int bufferIndex(int slot) {
        return (slot % SLOTS_PER_CHUNK) * SLOT_BYTES;
    }

    /** The same memory as a ByteBuffer (for copies into and out of netlink messages), at {@link #bufferIndex}. */
    ByteBuffer view(int slot) {
        return chunkViews[slot / SLOTS_PER_CHUNK];
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

    /** Unmaps the slot memory; only once no engine call can still touch it. */
    @Override
    public void close() {
        for (AnonymousMemory chunk : chunks) {
            if (chunk != null) {
                chunk.close();
            }
        }
    }
}
