package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.engine.PageIoException;
import dev.valet.client.kernel.PageStore;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The store behind the tier in its tests, in memory: a fake, because the real one (the engine) needs donors, and
 * these tests must choose exactly when and how each write and read ends. Writes and reads answer at once, or wait
 * in {@link #pending} until the test ends them (with success or failure); writes can also fail at once. A write is
 * applied when it ends well (from its source then, as the engine sends it before answering); a read takes the data
 * when it is asked for (as a donor answers at once, whatever lands after).
 */
final class FakeBacking implements PageStore {
    static final int PAGE = 4096;

    /** A write or read the test has not ended yet. */
    final class Pending {
        final boolean write;
        final long page;
        final int count;
        final ByteBuf buffer;
        final int index;
        final PageIoDone done;
        final byte[][] snapshot;

        Pending(boolean write, long page, int count, ByteBuf buffer, int index, PageIoDone done) {
            this.write = write;
            this.page = page;
            this.count = count;
            this.buffer = buffer;
            this.index = index;
            this.done = done;
            this.snapshot = write ? null : snapshot(page, count);
        }

        /** Ends it: a write is applied (when {@code ok}), a read's data copied; then its caller is told. */
        void end(boolean ok) {
            synchronized (FakeBacking.this) {
                pending.remove(this);
                if (ok) {
                    apply(this);
                }
            }
            done.pageIoDone(ok ? null : new PageIoException("fake backing: " + (write ? "write" : "read")
                    + " of page " + page + " failed"));
        }
    }

    private final Map<Long, byte[]> pages = new HashMap<>();
    final List<Pending> pending = new ArrayList<>();
    volatile boolean delayWrites;
    volatile boolean delayReads;
    /** Reads into this buffer (the tier's memory: reads ahead) wait even when others do not. */
    volatile ByteBuf delayReadsInto;
    volatile boolean failWrites;
    volatile int writeCalls;
    volatile int readCalls;

    @Override
    public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
        Pending p;
        synchronized (this) {
            writeCalls++;
            p = new Pending(true, firstPage, count, src, srcIndex, done);
            if (delayWrites) {
                pending.add(p);
                return;
            }
        }
        p.end(!failWrites);
    }

    @Override
    public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        Pending p;
        synchronized (this) {
            readCalls++;
            p = new Pending(false, firstPage, count, dst, dstIndex, done);
            if (delayReads || dst == delayReadsInto) {
                pending.add(p);
                return;
            }
        }
        p.end(true);
    }

    /** What the store holds for {@code page}: its 4096 bytes, or null if never written. */
    synchronized byte[] page(long page) {
        byte[] data = pages.get(page);
        return data == null ? null : data.clone();
    }

    synchronized void put(long page, byte[] data) {
        pages.put(page, data.clone());
    }

    synchronized int pageCount() {
        return pages.size();
    }

    /** The pending operations matching {@code which}, oldest first (a copy: end them one by one). */
    synchronized List<Pending> pending(Predicate<Pending> which) {
        List<Pending> matching = new ArrayList<>();
        for (Pending p : pending) {
            if (which.test(p)) {
                matching.add(p);
            }
        }
        return matching;
    }

    /** Ends every pending operation matching {@code which}; returns how many. */
    int end(Predicate<Pending> which, boolean ok) {
        List<Pending> ending = pending(which);
        ending.forEach(p -> p.end(ok));
        return ending.size();
    }

    int endWrites(boolean ok) {
        return end(p -> p.write, ok);
    }

    int endReads(boolean ok) {
        return end(p -> !p.write, ok);
    }

    /**
     * A crash of the daemon: each pending write reached the donors or not ({@code applied} decides), and no answer
     * comes any more.
     */
    synchronized void crash(Predicate<Pending> applied) {
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.write && applied.test(p)) {
                apply(p);
            }
            it.remove();
        }
    }

    private void apply(Pending p) {
        for (int i = 0; i < p.count; i++) {
            if (p.write) {
                byte[] data = new byte[PAGE];
                p.buffer.getBytes(p.index + i * PAGE, data);
                pages.put(p.page + i, data);
            } else {
                byte[] data = p.snapshot[i];
                if (data == null) {
                    p.buffer.setZero(p.index + i * PAGE, PAGE);
                } else {
                    p.buffer.setBytes(p.index + i * PAGE, data);
                }
            }
        }
    }

    private byte[][] snapshot(long page, int count) {
        byte[][] data = new byte[count][];
        for (int i = 0; i < count; i++) {
            byte[] d = pages.get(page + i);
            data[i] = d == null ? null : d.clone();
        }
        return data;
    }
}
