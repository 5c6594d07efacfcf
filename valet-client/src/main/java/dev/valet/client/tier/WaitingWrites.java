package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;

/**
 * Writes that found no room in the tier (every slot dirty or in use), in arrival order: each is resumed where it
 * stopped as flushes free slots, and told once all its pages are in. A new write waits behind them, so none
 * starves. The records are preallocated and reused; only more writers waiting at once than ever before grows the
 * pool (by doubling). Not thread safe: callers hold the tier's lock.
 */
final class WaitingWrites {
    /** One waiting write: its pages {@code firstPage + written .. firstPage + count - 1} are still to go in. */
    static final class Waiting {
        long firstPage;
        int count;
        int written;
        ByteBuf src;
        int srcIndex;
        PageIoDone done;
        /** The next record in a list of finished writes to tell. */
        Waiting next;
    }

    private Waiting[] queue;
    private int head;
    private int size;
    private final RecordPool<Waiting> spare;

    WaitingWrites(int initial) {
        queue = new Waiting[initial];
        spare = new RecordPool<>(Waiting::new, initial);
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** Queues a write with {@code written} of its pages in the tier already. */
    void add(long firstPage, int count, int written, ByteBuf src, int srcIndex, PageIoDone done) {
        if (size == queue.length) {
            Waiting[] grown = new Waiting[2 * queue.length];
            for (int i = 0; i < size; i++) {
                grown[i] = queue[(head + i) % queue.length];
            }
            queue = grown;
            head = 0;
        }
        Waiting w = spare.take();
        w.firstPage = firstPage;
        w.count = count;
        w.written = written;
        w.src = src;
        w.srcIndex = srcIndex;
        w.done = done;
        w.next = null;
        queue[(head + size++) % queue.length] = w;
    }

    /** The oldest waiting write, or null. */
    Waiting first() {
        return size == 0 ? null : queue[head];
    }

    /** Takes the oldest waiting write out of the queue; {@link #recycle} it once its caller was told. */
    Waiting removeFirst() {
        Waiting w = queue[head];
        queue[head] = null;
        head = (head + 1) % queue.length;
        size--;
        return w;
    }

    /** Gives a record back for reuse. */
    void recycle(Waiting w) {
        w.src = null;
        w.done = null;
        w.next = null;
        spare.give(w);
    }
}
