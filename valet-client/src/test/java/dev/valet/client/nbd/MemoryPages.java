package dev.valet.client.nbd;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * Pages in a byte array, for the NBD tests. Answers at once, or, while {@link #hold} is on, keeps each call until
 * the test releases it ({@link #releaseFirst}, {@link #releaseLast}), to have requests in flight.
 */
final class MemoryPages implements PageStore {
    final byte[] bytes;
    boolean hold;
    int calls;
    int writes;
    private final Deque<Runnable> held = new ArrayDeque<>();

    MemoryPages(long size) {
        bytes = new byte[(int) size];
    }

    @Override
    public synchronized void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
        calls++;
        writes++;
        Runnable call = () -> {
            src.getBytes(srcIndex, bytes, (int) firstPage * 4096, count * 4096);
            done.pageIoDone(null);
        };
        run(call);
    }

    @Override
    public synchronized void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        calls++;
        Runnable call = () -> {
            dst.setBytes(dstIndex, bytes, (int) firstPage * 4096, count * 4096);
            done.pageIoDone(null);
        };
        run(call);
    }

    private void run(Runnable call) {
        if (hold) {
            held.add(call);
        } else {
            call.run();
        }
    }

    synchronized int heldCount() {
        return held.size();
    }

    void releaseFirst() {
        Runnable call;
        synchronized (this) {
            call = held.removeFirst();
        }
        call.run();
    }

    void releaseLast() {
        Runnable call;
        synchronized (this) {
            call = held.removeLast();
        }
        call.run();
    }

    byte[] snapshot() {
        return Arrays.copyOf(bytes, bytes.length);
    }
}
