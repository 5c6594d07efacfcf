package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import dev.valet.client.tier.BackingRuns.Run;
import dev.valet.client.tier.WaitingWrites.Waiting;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.HostTierConfig;
import io.netty.buffer.ByteBuf;
import org.agrona.concurrent.AgentRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host tier: a {@link PageStore} in front of another ({@code backing}, the engine) that keeps pages in a
 * bounded memory it is given, all its bookkeeping included, so that a restarted daemon rebuilds it from that memory
 * alone (the driver's, which outlives the daemon; docs/host-tier.md).
 * <ul>
 *   <li>A write completes once its pages are in the tier (copy-on-write slots: {@link SlotTable}); thread
 *       {@code valet-tier-flush} writes them to the backing store in the background ({@link Flusher}). With no slot
 *       free or clean, a write waits ({@link WaitingWrites}); it is never failed.</li>
 *   <li>A read of pages all in the tier is answered at once; other reads go to the backing store, the tier's pages
 *       laid over what it returns ({@link PartialRead}). Swap-ins that follow a trend are read ahead
 *       ({@link ReadAhead}).</li>
 *   <li>{@link #open} recovers what the memory holds: every page written to the tier and not yet to the backing
 *       store is its page's newest version again, served at once and written out first, in the background
 *       (thread {@code valet-tier-recovery} reports how far that got).</li>
 * </ul>
 * Calls come from the kernel channel's receive thread, answers from the backing store's threads, flushes from the
 * tier's own: one lock guards the slots, held for bookkeeping and 4 KiB copies, never across a backing call or an
 * answer to a caller. Nothing is allocated per request.
 */
public final class HostTier implements PageStore, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HostTier.class);
    private static final int PAGE = TierLayout.PAGE;
    /** Preallocated records for waiting writes and partly-hit reads; more at once grows the pool. */
    private static final int POOL = 64;
    private static final int POOL_PAGES = 128;

    /**
     * What the tier needs to know.
     *
     * @param pageCount        pages of the swap space: the pages the tier may be asked for
     * @param flushBatch       most dirty pages written to the backing store in one burst
     * @param maxFlushing      most pages being written to the backing store at once
     * @param prefetch         whether to read ahead
     * @param prefetchWindow   differences between swap-ins voted over
     * @param prefetchMaxPages most pages read ahead at once
     */
    public record Settings(long pageCount, int flushBatch, int maxFlushing, boolean prefetch, int prefetchWindow,
                           int prefetchMaxPages) {
        public Settings {
            if (pageCount < 1 || flushBatch < 1 || maxFlushing < 1 || prefetchWindow < 2 || prefetchMaxPages < 1) {
                throw new IllegalArgumentException("host tier settings out of range: pageCount " + pageCount
                        + ", flushBatch " + flushBatch + ", maxFlushing " + maxFlushing + ", prefetchWindow "
                        + prefetchWindow + ", prefetchMaxPages " + prefetchMaxPages);
            }
        }

        /** The {@code hostTier:} settings of valet.yaml, for a swap space of {@code swapSpace}. */
        public static Settings of(ClientConfig config) {
            HostTierConfig tier = config.hostTier();
            return new Settings(config.swapSpace().bytes() / PAGE, tier.flushBatch(), tier.maxFlushing(),
                    tier.prefetch().enabled(), tier.prefetch().window(), tier.prefetch().maxPages());
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final TierLayout layout;
    private final PageStore backing;
    private final Settings settings;
    private final SlotTable slots;
    private final Flusher flusher;
    private final ReadAhead readAhead;
    private final WaitingWrites waiting = new WaitingWrites(POOL);
    private final RecordPool<PartialRead> partials =
            new RecordPool<>(() -> new PartialRead(this::partialReadDone, POOL_PAGES), POOL);
    private final BackingRuns runs;
    private final FlushIdleStrategy idle = new FlushIdleStrategy();
    private AgentRunner runner;
    private boolean closed;
    private long writes;
    private long writeWaits;
    private long reads;
    private long hits;
    private long misses;
    private long recoveredDirty;
    /** The highest version found in memory at open: dirty slots up to it hold recovered pages. */
    private long recoveredVersion;

    private HostTier(TierLayout layout, PageStore backing, Settings settings) {
        this.layout = layout;
        this.backing = backing;
        this.settings = settings;
        this.slots = new SlotTable(layout, settings.prefetchMaxPages());
        this.flusher = new Flusher(slots, settings.maxFlushing());
        this.readAhead = new ReadAhead(slots, settings.pageCount(), settings.prefetch(), settings.prefetchWindow(),
                settings.prefetchMaxPages());
        int chunks = Math.max(4, (settings.maxFlushing() + settings.prefetchMaxPages()) / BackingRuns.MAX_RUN + 2);
        this.runs = new BackingRuns(slots, layout, this::runDone, chunks, POOL);
    }

    /**
     * Opens the tier in {@code memory} (formatting it if its magic is zero, as the driver allocates it), in front of
     * {@code backing}, and starts its flush thread. Pages found dirty in the memory (a daemon stopped or killed
     * with pages not yet on the donors) are again their pages' newest versions: reads find them in the tier and the
     * flush thread writes them to {@code backing} before any page written later, retrying with backoff as long as
     * the backing store refuses them. This returns once the index is rebuilt, without waiting for that write-out
     * (a restart must not hold the kernel's requests for it); thread {@code valet-tier-recovery} logs how many are
     * left every 10 seconds and when the last is on the donors.
     *
     * @throws IOException naming what was found when the memory holds something other than a tier of this layout
     */
    public static HostTier open(ByteBuf memory, PageStore backing, Settings settings) throws IOException {
        HostTier tier = openStopped(memory, backing, settings);
        tier.start();
        if (tier.recoveredDirty > 0) {
            Thread report = new Thread(() -> TierRecovery.reportWriteOut(tier, tier.recoveredDirty),
                    "valet-tier-recovery");
            report.setDaemon(true);
            report.start();
        }
        return tier;
    }

    /** Opens and recovers the tier without its flush thread: tests drive {@link #flushBurst} themselves. */
    static HostTier openStopped(ByteBuf memory, PageStore backing, Settings settings) throws IOException {
        TierLayout layout;
        try {
            layout = TierLayout.attach(memory);
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        HostTier tier = new HostTier(layout, backing, settings);
        tier.lock.lock();
        try {
            tier.recoveredDirty = TierRecovery.recover(layout, tier.slots, tier.flusher, settings.pageCount());
            tier.recoveredVersion = tier.slots.nextVersion() - 1;
        } catch (IllegalStateException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            tier.lock.unlock();
        }
        return tier;
    }

    private void start() {
        AgentRunner agent = new AgentRunner(idle, e -> LOG.error("host tier: flush thread failed", e), null,
                new TierFlushAgent(this));
        lock.lock();
        try {
            runner = agent;
        } finally {
            lock.unlock();
        }
        AgentRunner.startOnThread(agent, r -> {
            Thread t = new Thread(r, TierFlushAgent.ROLE);
            t.setDaemon(true);
            return t;
        });
    }

    /** Whether {@link #close} was called. */
    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** The error of the last failed flush if none succeeded since, else null: for progress reports. */
    Throwable lastFlushError() {
        lock.lock();
        try {
            return flusher.lastError();
        } finally {
            lock.unlock();
        }
    }

    /** Pages found dirty at open and not yet on the donors (0 once all are, or when none were found). */
    public int recoveredLeft() {
        lock.lock();
        try {
            return recoveredDirty == 0 ? 0 : slots.dirtyUpTo(recoveredVersion);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until no page in the tier is dirty (for a clean stop: the memory keeps them anyway).
     *
     * @return whether that happened within {@code timeout}
     */
    public boolean awaitClean(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            lock.lock();
            try {
                if (slots.dirty() == 0) {
                    return true;
                }
            } finally {
                lock.unlock();
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(1);
        }
    }

    // ---- writes

    /**
     * Copies the pages into the tier and tells {@code done} once all are in; the flush thread writes them to the
     * backing store later. A write that finds no room waits for flushes to make some (its {@code src} must stay
     * unchanged until {@code done} is told, as for any page store).
     *
     * @throws IllegalArgumentException for pages outside the swap space ({@code done} is not told)
     */
    @Override
    public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
        boolean complete;
        lock.lock();
        try {
            checkRun(firstPage, count);
            writes++;
            int written = waiting.isEmpty() ? writePages(firstPage, count, src, srcIndex, 0) : 0;
            complete = written == count;
            if (!complete) {
                waiting.add(firstPage, count, written, src, srcIndex, done);
                writeWaits++;
            }
        } finally {
            lock.unlock();
        }
        idle.wake();
        if (complete) {
            done.pageIoDone(null);
        }
    }

    /** Writes pages {@code from ..} of a run into free slots, as far as there are some; returns how far it got. */
    private int writePages(long firstPage, int count, ByteBuf src, int srcIndex, int from) {
        for (int i = from; i < count; i++) {
            int slot = slots.take();
            if (slot == SlotTable.NONE) {
                return i;
            }
            slots.write(slot, firstPage + i, src, srcIndex + i * PAGE);
            flusher.dirtied(slot);
        }
        return count;
    }

    /** Resumes waiting writes in order while there is room; returns the finished ones, linked, to be told. */
    private Waiting serveWaiting() {
        Waiting head = null;
        Waiting tail = null;
        for (Waiting w = waiting.first(); w != null; w = waiting.first()) {
            w.written = writePages(w.firstPage, w.count, w.src, w.srcIndex, w.written);
            if (w.written < w.count) {
                break;
            }
            waiting.removeFirst();
            if (tail == null) {
                head = w;
            } else {
                tail.next = w;
            }
            tail = w;
        }
        return head;
    }

    /** Tells finished waiting writes (outside the lock), then recycles their records; returns how many. */
    private int tell(Waiting finished) {
        int told = 0;
        for (Waiting w = finished; w != null; w = w.next) {
            w.done.pageIoDone(null);
            told++;
        }
        if (finished != null) {
            lock.lock();
            try {
                for (Waiting w = finished; w != null; ) {
                    Waiting next = w.next;
                    waiting.recycle(w);
                    w = next;
                }
            } finally {
                lock.unlock();
            }
        }
        return told;
    }

    // ---- reads

    /**
     * Reads pages: from the tier when it has them all (told at once), else from the backing store with the tier's
     * pages laid over; then reads ahead along the trend of recent reads, if there is one.
     *
     * @throws IllegalArgumentException for pages outside the swap space ({@code done} is not told)
     */
    @Override
    public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        int found = 0;
        PartialRead partial = null;
        Run ahead;
        lock.lock();
        try {
            checkRun(firstPage, count);
            reads++;
            boolean foreseen = false;
            boolean missed = false;
            for (int i = 0; i < count; i++) {
                int slot = slots.newest(firstPage + i);
                if (slot != SlotTable.NONE) {
                    found++;
                    foreseen |= slots.unusedPrefetch[slot];
                } else if (slots.isFilling(firstPage + i)) {
                    foreseen = true;
                } else {
                    missed = true;
                }
            }
            hits += found;
            misses += count - found;
            if (found == count) {
                for (int i = 0; i < count; i++) {
                    int slot = slots.newest(firstPage + i);
                    layout.copyOut(slot, dst, dstIndex + i * PAGE);
                    readAhead.hit(slot);
                }
            } else if (found > 0) {
                partial = pin(firstPage, count, dst, dstIndex, done);
            }
            ahead = runs.cut(readAhead.plan(firstPage, count, foreseen, missed, waiting.isEmpty()), false);
        } finally {
            lock.unlock();
        }
        try {
            if (found == count) {
                done.pageIoDone(null);
            } else if (partial != null) {
                try {
                    backing.read(firstPage, count, dst, dstIndex, partial);
                } catch (RuntimeException e) {
                    partial.pageIoDone(e);
                }
            } else {
                backing.read(firstPage, count, dst, dstIndex, done);
            }
        } finally {
            issue(ahead);
        }
    }

    /** Pins the tier's pages of a partly-hit read, to be laid over what the backing store returns. */
    private PartialRead pin(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        PartialRead read = partials.take();
        read.start(firstPage, count, dst, dstIndex, done);
        for (int i = 0; i < count; i++) {
            int slot = slots.newest(firstPage + i);
            read.pinned[i] = slot;
            if (slot != SlotTable.NONE) {
                slots.pins[slot]++;
                readAhead.hit(slot);
            }
        }
        return read;
    }

    /** The backing store answered a partly-hit read: lay the tier's pages over it, unpin, tell the caller. */
    private void partialReadDone(PartialRead read, Throwable error) {
        PageIoDone done = read.done;
        Waiting finished;
        lock.lock();
        try {
            for (int i = 0; i < read.count; i++) {
                int slot = read.pinned[i];
                if (slot == SlotTable.NONE) {
                    continue;
                }
                if (error == null) {
                    int newest = slots.newest(read.firstPage + i); // a write meanwhile is as good (it overlapped)
                    layout.copyOut(newest != SlotTable.NONE ? newest : slot, read.dst, read.dstIndex + i * PAGE);
                }
                slots.pins[slot]--;
                slots.releaseIfRetired(slot);
            }
            read.clear();
            partials.give(read);
            finished = serveWaiting();
        } finally {
            lock.unlock();
        }
        tell(finished);
        done.pageIoDone(error);
    }

    /**
     * Starts the backing writes (flushes) or reads (reads ahead) of runs cut under the lock; returns the pages they
     * carry. A call that throws counts as a failed one.
     */
    private int issue(Run first) {
        int issued = 0;
        Run run = first;
        while (run != null) {
            Run next = run.next; // both read before the run's answer can come and the run be reused
            int count = run.count;
            try {
                if (run.write) {
                    runs.stageIn(run);
                    backing.write(run.firstPage, run.count, run.buffer, run.index, run);
                } else {
                    backing.read(run.firstPage, run.count, run.buffer, run.index, run);
                }
            } catch (RuntimeException e) {
                run.pageIoDone(e);
            }
            issued += count;
            run = next;
        }
        return issued;
    }

    // ---- the flush thread and the backing store's answers

    /** One round of the flush thread: resume waiting writes, start a burst of flushes; returns the work done. */
    int flushBurst() {
        return flushBurst(System.nanoTime());
    }

    /** {@link #flushBurst()} at {@code nowNanos}, which decides which failed flushes are due again (tests). */
    int flushBurst(long nowNanos) {
        Waiting finished;
        Run flushes;
        lock.lock();
        try {
            if (closed) {
                return 0;
            }
            finished = serveWaiting();
            flushes = runs.cut(flusher.pick(nowNanos, settings.flushBatch()), true);
        } finally {
            lock.unlock();
        }
        return tell(finished) + issue(flushes);
    }

    /** A run of flushes or reads ahead ended: settles each of its slots. */
    private void runDone(Run run, Throwable error) {
        Waiting finished;
        lock.lock();
        try {
            if (closed) {
                return; // the memory may be another tier's now (tests reopen it in one process)
            }
            long now = System.nanoTime();
            if (!run.write && error == null) {
                runs.stageOut(run);
            }
            for (int i = 0; i < run.count; i++) {
                if (run.write) {
                    flusher.done(run.slots[i], error, now);
                } else {
                    readAhead.filled(run.slots[i], error == null);
                }
            }
            runs.give(run);
            finished = serveWaiting();
        } finally {
            lock.unlock();
        }
        tell(finished);
        idle.wake(); // room for more flushes
    }

    private void checkRun(long firstPage, int count) {
        if (closed) {
            throw new IllegalStateException("host tier closed");
        }
        if (count < 1 || firstPage < 0 || firstPage > settings.pageCount() - count) {
            throw new IllegalArgumentException("pages " + firstPage + " + " + count + " outside the swap space of "
                    + settings.pageCount() + " pages");
        }
    }

    /** The counters now. */
    public TierStats stats() {
        lock.lock();
        try {
            return new TierStats(slots.count, writes, writeWaits, reads, hits, misses, readAhead.prefetched,
                    readAhead.used, slots.dirty(), slots.clean(), slots.free(), flusher.flushed, flusher.failures,
                    recoveredDirty, runs.calls, runs.pages);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the flush thread. Dirty pages stay in the memory for the next {@link #open}; writes still waiting are
     * not told (the driver gives its requests to the next daemon). Answers that come later are ignored.
     */
    @Override
    public void close() {
        AgentRunner agent;
        int dirty;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            agent = runner;
            dirty = slots.dirty();
        } finally {
            lock.unlock();
        }
        if (agent != null) {
            agent.close();
        }
        LOG.info("host tier closed; {} dirty pages stay in its memory for the next start", dirty);
    }
}
