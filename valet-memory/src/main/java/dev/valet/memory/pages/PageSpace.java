package dev.valet.memory.pages;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import dev.valet.memory.MemoryException;
import dev.valet.memory.RegionIoException;
import dev.valet.memory.alloc.Placement;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Byte-granular reads and writes over the engine's page space ({@link PageStore}: whole 4 KiB pages). A batch of
 * spans locks its pages ({@link PageLocks}), gathers each page it needs whole into a staging buffer (zeros for a page
 * no region wrote, the cache's copy, or the donors', many pages per request), and for a write changes the bytes the
 * spans cover and writes the pages back: a page covered whole by one span is written without being read. Granules no
 * region wrote read as zeros ({@link GranuleMasks}). A large transfer goes in batches of up to {@value #BATCH_PAGES}
 * pages, each batch's requests all in flight at once.
 */
public final class PageSpace {
    public static final int PAGE = Placement.PAGE;
    static final int BATCH_PAGES = 1024;

    /** What a batch checks under its pages' locks before it touches anything (that the span's region is live). */
    @FunctionalInterface
    public interface Guard {
        void check(Span span) throws MemoryException;
    }

    private final PageStore store;
    private final long pageCount;
    private final PageLocks locks = new PageLocks();
    private final GranuleMasks masks;
    private final PageCache cache;
    private final LongAdder pagesFetched = new LongAdder();
    private final LongAdder pagesStored = new LongAdder();

    public PageSpace(PageStore store, long pageCount, long cacheBytes) {
        this.store = store;
        this.pageCount = pageCount;
        this.masks = new GranuleMasks(pageCount);
        this.cache = new PageCache(cacheBytes);
    }

    public long pageCount() {
        return pageCount;
    }

    /** Reads every span's bytes into its buffer (the buffers' positions are the caller's to move). */
    public void read(List<Span> spans, Guard guard) throws MemoryException {
        transfer(spans, false, guard);
    }

    /** Writes every span's bytes from its buffer; spans that overlap land in some order. */
    public void write(List<Span> spans, Guard guard) throws MemoryException {
        transfer(spans, true, guard);
    }

    /**
     * Forgets what a region wrote, so that its bytes read as zeros when they are placed again: under its pages'
     * exclusive locks, {@code guard} first (which marks the region freed, so no later batch touches it; false: it
     * was freed already, and nothing is cleared), then its granules are cleared; its pages leave the cache unless
     * they are shared slots. Whether {@code guard} let it.
     */
    public boolean forget(Placement p, BooleanSupplier guard) {
        int n = (int) Math.min(p.pages(), PageLocks.STRIPES);
        long[] pages = new long[n];
        for (int i = 0; i < n; i++) {
            pages[i] = p.firstPage() + i;
        }
        int[] held = locks.lock(pages, n, true);
        try {
            if (!guard.getAsBoolean()) {
                return false;
            }
            if (p.isSlot()) {
                masks.clear(p.firstPage(), GranuleMasks.bits((int) (p.address() % PAGE), p.slotSize()));
            } else {
                for (long page = p.firstPage(), end = page + p.pages(); page < end; page++) {
                    masks.clear(page, -1L);
                    cache.invalidate(page);
                }
            }
            return true;
        } finally {
            locks.unlock(held, true);
        }
    }

    /** Runs {@code action} while no batch runs: every stripe locked exclusively (closing waits for what runs). */
    public void exclusively(Runnable action) {
        long[] pages = new long[PageLocks.STRIPES];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = i;
        }
        int[] held = locks.lock(pages, pages.length, true);
        try {
            action.run();
        } finally {
            locks.unlock(held, true);
        }
    }

    public long cacheHits() {
        return cache.hits();
    }

    public long cacheMisses() {
        return cache.misses();
    }

    public long cachedBytes() {
        return cache.bytes();
    }

    /** Pages read from the donors so far. */
    public long pagesFetched() {
        return pagesFetched.sum();
    }

    /** Pages written to the donors so far. */
    public long pagesStored() {
        return pagesStored.sum();
    }

    private void transfer(List<Span> spans, boolean write, Guard guard) throws MemoryException {
        List<Span> parts = new ArrayList<>();
        for (Span s : spans) {
            split(s, parts);
        }
        parts.sort(Comparator.comparingLong(Span::address));
        List<Span> batch = new ArrayList<>();
        long batchPages = 0;
        long lastPage = -1;
        for (Span s : parts) {
            long fresh = s.lastPage() - Math.max(s.firstPage(), lastPage + 1) + 1;
            if (!batch.isEmpty() && batchPages + Math.max(fresh, 0) > BATCH_PAGES) {
                run(batch, write, guard);
                batch.clear();
                batchPages = 0;
                lastPage = -1;
                fresh = s.lastPage() - s.firstPage() + 1;
            }
            batch.add(s);
            batchPages += Math.max(fresh, 0);
            lastPage = Math.max(lastPage, s.lastPage());
        }
        if (!batch.isEmpty()) {
            run(batch, write, guard);
        }
    }

    /** Cuts a span at every {@value #BATCH_PAGES}-page boundary of the space, so each part fits in one batch. */
    private static void split(Span s, List<Span> into) {
        long chunk = (long) BATCH_PAGES * PAGE;
        int done = 0;
        while (done < s.length()) {
            long at = s.address() + done;
            int n = (int) Math.min(s.length() - done, chunk - at % chunk);
            into.add(done == 0 && n == s.length() ? s : s.part(done, n));
            done += n;
        }
    }

    /** One batch: spans sorted by address, their pages at most {@value #BATCH_PAGES}. */
    private void run(List<Span> spans, boolean write, Guard guard) throws MemoryException {
        long[] pages = new long[BATCH_PAGES + 1];
        int n = 0;
        for (Span s : spans) {
            for (long p = s.firstPage(); p <= s.lastPage(); p++) {
                if (n == 0 || pages[n - 1] < p) {
                    pages[n++] = p;
                }
            }
        }
        int[] held = locks.lock(pages, n, write);
        try {
            for (Span s : spans) {
                guard.check(s);
            }
            ByteBuf staging = PooledByteBufAllocator.DEFAULT.directBuffer(n * PAGE, n * PAGE);
            try {
                if (write) {
                    writeBatch(spans, pages, n, staging);
                } else {
                    readBatch(spans, pages, n, staging);
                }
            } finally {
                staging.release();
            }
        } finally {
            locks.unlock(held, write);
        }
    }

    private void readBatch(List<Span> spans, long[] pages, int n, ByteBuf staging) throws RegionIoException {
        boolean[] fetch = new boolean[n];
        gather(pages, n, staging, fetch);
        fetchAll(spans, pages, n, staging, fetch, "read");
        for (int i = 0; i < n; i++) {
            if (fetch[i]) {
                cache.put(pages[i], staging, i * PAGE);
            }
        }
        maskUnwritten(pages, n, staging, null);
        for (Span s : spans) {
            int at = index(pages, n, s.firstPage()) * PAGE + (int) (s.address() % PAGE);
            ByteBuffer dst = s.buffer().duplicate();
            dst.limit(s.bufferIndex() + s.length()).position(s.bufferIndex());
            staging.getBytes(at, dst);
        }
    }

    private void writeBatch(List<Span> spans, long[] pages, int n, ByteBuf staging) throws RegionIoException {
        boolean[] whole = new boolean[n];
        for (Span s : spans) {
            long end = s.address() + s.length();
            for (long p = (s.address() + PAGE - 1) / PAGE; (p + 1) * PAGE <= end; p++) {
                whole[index(pages, n, p)] = true;
            }
        }
        boolean[] fetch = new boolean[n];
        for (int i = 0; i < n; i++) {
            fetch[i] = !whole[i]; // gather() decides which of the pages needed whole must come from the donors
        }
        gatherOnly(pages, n, staging, fetch);
        fetchAll(spans, pages, n, staging, fetch, "read before write");
        maskUnwritten(pages, n, staging, whole);
        for (Span s : spans) {
            int at = index(pages, n, s.firstPage()) * PAGE + (int) (s.address() % PAGE);
            ByteBuffer src = s.buffer().duplicate();
            src.limit(s.bufferIndex() + s.length()).position(s.bufferIndex());
            staging.setBytes(at, src);
        }
        List<CompletableFuture<Void>> stores = new ArrayList<>();
        List<long[]> runs = new ArrayList<>();
        for (int i = 0; i < n; ) {
            int j = i + 1;
            while (j < n && pages[j] == pages[j - 1] + 1) {
                j++;
            }
            stores.add(io(true, pages[i], j - i, staging, i * PAGE));
            runs.add(new long[] {pages[i], j - i});
            i = j;
        }
        Throwable failed = await(stores);
        for (Span s : spans) {
            long done = 0;
            while (done < s.length()) {
                long at = s.address() + done;
                int inPage = (int) Math.min(s.length() - done, PAGE - at % PAGE);
                masks.set(at / PAGE, GranuleMasks.bits((int) (at % PAGE), inPage));
                done += inPage;
            }
        }
        if (failed != null) {
            for (int i = 0; i < n; i++) {
                cache.invalidate(pages[i]);
            }
            throw failure("write", spans, runs, stores, failed);
        }
        pagesStored.add(n);
        for (int i = 0; i < n; i++) {
            cache.put(pages[i], staging, i * PAGE);
        }
    }

    /**
     * For a read, every page: zeros where no region wrote it, else the cache's copy, else marked for the donors in
     * {@code fetch}.
     */
    private void gather(long[] pages, int n, ByteBuf staging, boolean[] fetch) {
        Arrays.fill(fetch, 0, n, true);
        gatherOnly(pages, n, staging, fetch);
    }

    /** The pages marked in {@code fetch}: zeros or the cache's copy where possible, the mark kept where not. */
    private void gatherOnly(long[] pages, int n, ByteBuf staging, boolean[] fetch) {
        for (int i = 0; i < n; i++) {
            if (!fetch[i]) {
                continue;
            }
            if (masks.get(pages[i]) == 0) {
                staging.setZero(i * PAGE, PAGE);
                fetch[i] = false;
            } else if (cache.copyTo(pages[i], staging, i * PAGE)) {
                fetch[i] = false;
            }
        }
    }

    /** Reads the marked pages from the donors, consecutive ones in one call each, all at once. */
    private void fetchAll(List<Span> spans, long[] pages, int n, ByteBuf staging, boolean[] fetch, String what)
            throws RegionIoException {
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        List<long[]> runs = new ArrayList<>();
        int fetched = 0;
        for (int i = 0; i < n; ) {
            if (!fetch[i]) {
                i++;
                continue;
            }
            int j = i + 1;
            while (j < n && fetch[j] && pages[j] == pages[j - 1] + 1) {
                j++;
            }
            reads.add(io(false, pages[i], j - i, staging, i * PAGE));
            runs.add(new long[] {pages[i], j - i});
            fetched += j - i;
            i = j;
        }
        Throwable failed = await(reads);
        if (failed != null) {
            throw failure(what, spans, runs, reads, failed);
        }
        pagesFetched.add(fetched);
    }

    /** Zeros the granules no region wrote in each page (but those in {@code skip}, wholly overwritten anyway). */
    private void maskUnwritten(long[] pages, int n, ByteBuf staging, boolean[] skip) {
        for (int i = 0; i < n; i++) {
            long written = masks.get(pages[i]);
            if (written == -1L || written == 0 || (skip != null && skip[i])) {
                continue; // all data, or zeros already (gathered as zeros, or about to be overwritten whole)
            }
            for (int g = 0; g < Long.SIZE; g++) {
                if ((written & (1L << g)) == 0) {
                    staging.setZero(i * PAGE + g * GranuleMasks.GRANULE, GranuleMasks.GRANULE);
                }
            }
        }
    }

    private static int index(long[] pages, int n, long page) {
        return Arrays.binarySearch(pages, 0, n, page);
    }

    private CompletableFuture<Void> io(boolean write, long firstPage, int count, ByteBuf buf, int index) {
        Done done = new Done();
        try {
            if (write) {
                store.write(firstPage, count, buf, index, done);
            } else {
                store.read(firstPage, count, buf, index, done);
            }
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    /**
     * Waits for every request (uninterruptibly: the staging buffer must outlive them, and the engine ends each one
     * within {@code device.holdTimeout}); the first failure, or null.
     */
    private static Throwable await(List<CompletableFuture<Void>> requests) {
        Throwable first = null;
        for (CompletableFuture<Void> f : requests) {
            try {
                f.join();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e.getCause() != null ? e.getCause() : e;
                }
            }
        }
        return first;
    }

    /** The error for a batch: which span's pages failed first, and the engine's reason. */
    private static RegionIoException failure(String what, List<Span> spans, List<long[]> runs,
                                             List<CompletableFuture<Void>> requests, Throwable cause) {
        long[] run = runs.get(0);
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).isCompletedExceptionally()) {
                run = runs.get(i);
                break;
            }
        }
        Span victim = spans.get(0);
        for (Span s : spans) {
            if (s.lastPage() >= run[0] && s.firstPage() < run[0] + run[1]) {
                victim = s;
                break;
            }
        }
        return new RegionIoException(what + " of " + victim + " failed (pages " + run[0] + ".." + (run[0] + run[1] - 1)
                + " of the space): " + (cause.getMessage() != null ? cause.getMessage() : cause), cause);
    }

    /** An engine request's end as a future. */
    private static final class Done extends CompletableFuture<Void> implements PageIoDone {
        @Override
        public void pageIoDone(Throwable error) {
            if (error == null) {
                complete(null);
            } else {
                completeExceptionally(error);
            }
        }
    }
}
