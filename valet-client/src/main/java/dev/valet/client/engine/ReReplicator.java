package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.DonorPool;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.engine.placement.PlacementPolicy;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Restores the copy count of slabs that lost a copy. One background thread takes degraded slabs in turn, those
 * without a current copy first ({@link RepairQueue}: their requests are held), one copy each before any second.
 * Suspended copies whose donors answer again are brought up to date ({@link CopyResync}). Otherwise it ranks a new
 * donor (never one already holding the slab), allocates the slab there, starts sending it every new
 * write, waits for the writes that began before that moment, then copies every written page from a surviving copy,
 * throttled to {@code reReplicationRate}. Pages written meanwhile are never lost: they reach the new copy directly,
 * and the donor refuses an older copied version over a newer written one ({@code STALE_VERSION}), which the copy
 * skips. When the copy is complete the new donor becomes a full copy.
 */
final class ReReplicator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReReplicator.class);
    private static final long RETRY_DELAY_MS = 500;

    private final SlabMap map;
    private final SlabPlacer placer;
    private final DonorPool pool;
    private final PlacementPolicy<RemoteDonor> policy;
    private final int numReplica;
    private final long bytesPerSecond;
    private final int pagesPerRequest;
    private final RepairQueue queue = new RepairQueue();
    private final Thread worker;
    private final AtomicLong pagesCopied = new AtomicLong();
    private final AtomicLong slabsRepaired = new AtomicLong();
    private final CopyResync resync;
    private final BackupDisk backup;
    private volatile boolean running = true;

    ReReplicator(SlabMap map, SlabPlacer placer, DonorPool pool, PlacementPolicy<RemoteDonor> policy, int numReplica,
                        long bytesPerSecond, int pagesPerRequest, BackupDisk backup) {
        this.map = map;
        this.placer = placer;
        this.pool = pool;
        this.policy = policy;
        this.numReplica = numReplica;
        this.bytesPerSecond = bytesPerSecond;
        this.pagesPerRequest = pagesPerRequest;
        this.resync = new CopyResync(map, this, pagesPerRequest, backup);
        this.backup = backup;
        this.worker = new Thread(this::run, "valet-re-replicator");
        this.worker.setDaemon(true);
    }

    public void start() {
        worker.start();
    }

    /** A copy of {@code slab} on {@code donor} failed or is stale: drop it and queue the slab for repair. */
    public void copyFailed(SlabEntry slab, RemoteDonor donor, String why) {
        if (slab.drop(donor)) {
            LOG.warn("slab {} lost its copy on {} ({}); {} copies left", slab.id(), donor, why,
                    slab.replicas().size());
            enqueue(slab);
        }
    }

    /**
     * A copy of {@code slab} on {@code donor} did not answer in time (or its connection dropped): it is kept but
     * suspended, since it may have missed a write, and the slab is queued so that it is brought up to date (once its
     * donor answers) or replaced.
     */
    public void copyUnreachable(SlabEntry slab, RemoteDonor donor, String why) {
        if (slab.suspend(donor)) {
            LOG.warn("slab {}: copy on {} suspended ({}); {} current copies left", slab.id(), donor, why,
                    slab.replicas().size());
            enqueue(slab);
        }
    }

    /** Queues {@code slab} if it has fewer copies than asked for, or a suspended copy to resync or free. */
    public void enqueue(SlabEntry slab) {
        if ((slab.replicas().size() < numReplica || !slab.suspended().isEmpty()) && slab.markQueued()) {
            queue.add(slab);
        }
    }

    public long pagesCopied() {
        return pagesCopied.get();
    }

    public long slabsRepaired() {
        return slabsRepaired.get();
    }

    public int queued() {
        return queue.size();
    }

    private void run() {
        while (running) {
            SlabEntry slab;
            try {
                slab = queue.take(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (slab == null) {
                continue;
            }
            slab.unmarkQueued();
            try {
                repair(slab);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("re-replication of slab {} failed: {}; will retry", slab.id(), e.toString());
                retryLater(slab);
            }
        }
    }

    private void retryLater(SlabEntry slab) throws RuntimeException {
        try {
            Thread.sleep(RETRY_DELAY_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        enqueue(slab);
    }

    /**
     * {@code donor} answers again: if it holds a suspended copy of {@code slab} that the slab needs, the copy takes
     * new writes at once (writes held for want of a second copy go on), and is brought up to date when this thread
     * reaches the slab. Not while another copy of the slab is being made. True if it holds a suspended copy.
     */
    public boolean reattach(SlabEntry slab, RemoteDonor donor) {
        if (!slab.suspended().contains(donor)) {
            return false;
        }
        if (slab.replicas().size() < numReplica && slab.copyLock().tryLock()) {
            try {
                slab.attach(donor);
            } finally {
                slab.copyLock().unlock();
            }
        }
        return true;
    }

    private void repair(SlabEntry slab) throws InterruptedException {
        List<RemoteDonor> comingBack = new ArrayList<>(slab.suspended());
        RemoteDonor attached = slab.attached();
        if (attached != null) {
            comingBack.add(0, attached);
        }
        for (RemoteDonor d : comingBack) {
            if (!d.isLive()) {
                continue; // kept until its donor answers again or is confirmed dead
            }
            if (slab.replicas().size() >= numReplica) {
                dropExtra(slab, d);
                continue;
            }
            boolean hadNone = slab.replicas().isEmpty();
            if (resync.resync(slab, d) == CopyResync.Outcome.RETRY) {
                retryLater(slab);
                return;
            }
            if (hadNone && !slab.replicas().isEmpty() && queue.hasUrgent()) {
                // One current copy ends the hold on this slab's requests: other slabs without one come first.
                enqueue(slab);
                return;
            }
        }
        while (running && slab.replicas().size() < numReplica) {
            List<RemoteDonor> sources = slab.replicas();
            if (sources.isEmpty()) {
                if (slab.hasCopyComingBack()) {
                    if (slab.markWaitLogged()) {
                        LOG.warn("slab {}: every copy is on a suspected donor {}; waiting for one to answer"
                                + " (requests for it are held meanwhile)", slab.id(), slab.suspended());
                    }
                } else if (!map.anyWritten(slab, 0, slab.pageCount())) {
                    LOG.debug("slab {}: no copy and no page written; placed at its next write", slab.id());
                } else if (backup != null) {
                    placeFromBackup(slab);
                } else {
                    LOG.error("slab {} has no copy left to repair from, and there is no backup disk: its pages"
                            + " are lost; it is placed afresh at its next write", slab.id());
                }
                return;
            }
            List<RemoteDonor> excluded = new ArrayList<>(sources);
            excluded.addAll(slab.suspended());
            RemoteDonor target = chooseTarget(slab, excluded);
            if (target == null) {
                if (slab.markWaitLogged()) {
                    LOG.info("slab {}: no donor can take another copy yet ({} of {} copies); retrying until one"
                            + " can", slab.id(), sources.size(), numReplica);
                }
                retryLater(slab);
                return;
            }
            if (!copyTo(slab, target, bytesPerSecond)) {
                retryLater(slab);
                return;
            }
        }
    }

    /**
     * Only the backup disk holds {@code slab}'s pages (it alone acknowledged them while no donor could take the slab,
     * or every copy was lost): the slab is placed, and its new copies, which start suspended, are queued again to be
     * filled from the disk. Tried again later while no donor takes it.
     */
    private void placeFromBackup(SlabEntry slab) {
        try {
            placer.ensureMapped(slab).join();
        } catch (CompletionException e) {
            if (!slab.hasAnyCopy()) {
                if (slab.markWaitLogged()) {
                    LOG.warn("slab {} is held by the backup disk alone; placing it on donors when they can take it"
                            + " ({})", slab.id(), rootMessage(e));
                }
                retryLater(slab);
            }
        }
    }

    /** {@code slab} has its copies already: a suspended one that answers again is freed rather than resynced. */
    private void dropExtra(SlabEntry slab, RemoteDonor d) {
        if (slab.drop(d)) {
            LOG.info("slab {}: {} answers again, but the slab has {} copies already; freeing its old copy", slab.id(),
                    d, slab.replicas().size());
            DonorConnection c = d.connection();
            if (c != null) {
                c.freeSlab(slab.id()).exceptionally(e -> null);
            }
        }
    }

    /** The best-ranked live donor with room for {@code slab} that is not in {@code excluded}; null if none. */
    RemoteDonor chooseTarget(SlabEntry slab, Collection<RemoteDonor> excluded) {
        List<RemoteDonor> candidates = new ArrayList<>();
        for (RemoteDonor d : pool.live()) {
            if (!excluded.contains(d)) {
                candidates.add(d);
            }
        }
        List<RemoteDonor> chosen = policy.choose(candidates, RemoteDonor::signals, 1, map.slabBytes());
        return chosen.isEmpty() ? null : chosen.get(0);
    }

    /**
     * Makes {@code target} a full copy of {@code slab}, copying at most {@code rate} bytes per second; false if it
     * could not (the caller retries). Holds the slab's copy lock: one copy of a slab is made at a time.
     */
    boolean copyTo(SlabEntry slab, RemoteDonor target, long rate) throws InterruptedException {
        slab.copyLock().lockInterruptibly();
        try {
            return copyLocked(slab, target, rate);
        } finally {
            slab.copyLock().unlock();
        }
    }

    private boolean copyLocked(SlabEntry slab, RemoteDonor target, long rate) throws InterruptedException {
        if (slab.replicas().contains(target)) {
            return true;
        }
        if (slab.isHeldBy(target) || slab.catchingUp() != null) {
            // A suspended copy there, or one being made: never overwrite it with a new one. A copy attached on its
            // donor's return is resynced first.
            return false;
        }
        long t0 = System.nanoTime();
        try {
            placer.allocate(target, slab.id()).join();
        } catch (CompletionException e) {
            LOG.info("slab {}: donor {} refused a new copy: {}", slab.id(), target, rootMessage(e));
            return false;
        }
        Phaser before = slab.beginCatchUp(target);
        before.arriveAndAwaitAdvance();
        LOG.info("slab {}: copying to {} (from {})", slab.id(), target, slab.replicas());
        long copied = 0;
        long budgetStart = System.nanoTime();
        int perRequest = Math.min(pagesPerRequest, Math.min(target.connection().maxPagesPerRequest(),
                minPages(slab.replicas())));
        for (int first = 0; first < slab.pageCount(); first += perRequest) {
            int count = Math.min(perRequest, slab.pageCount() - first);
            if (!map.anyWritten(slab, first, count)) {
                continue;
            }
            Run run = copyRun(slab, target, first, count);
            if (run != Run.COPIED) {
                if (run == Run.NO_SOURCE) {
                    // Writes acknowledged since the copy began counted it: keep what it holds.
                    slab.copyStopped(target);
                    LOG.info("slab {}: copy to {} stopped, no copy could be read; kept as a suspended copy",
                            slab.id(), target);
                } else if (slab.catchingUp() == target) {
                    slab.drop(target); // it refused the pages
                }
                return false;
            }
            copied += count;
            pagesCopied.addAndGet(count);
            throttle(budgetStart, copied, rate);
        }
        if (!slab.promote(target)) {
            LOG.info("slab {}: the new copy on {} stopped short ({} went silent during the copy); kept as a"
                    + " suspended copy", slab.id(), target, target);
            return false;
        }
        slabsRepaired.incrementAndGet();
        LOG.info("slab {}: new copy on {} complete ({} pages in {} ms); {} copies", slab.id(), target, copied,
                (System.nanoTime() - t0) / 1_000_000, slab.replicas().size());
        return true;
    }

    static int minPages(List<RemoteDonor> donors) {
        int min = Integer.MAX_VALUE;
        for (RemoteDonor d : donors) {
            DonorConnection c = d.connection();
            if (c != null) {
                min = Math.min(min, c.maxPagesPerRequest());
            }
        }
        return min == Integer.MAX_VALUE ? 1 : min;
    }

    /** How copying one run of pages to a new copy ended. */
    private enum Run {
        COPIED,
        /** No copy of the slab could be read. */
        NO_SOURCE,
        /** The target refused the pages (one that did not answer is suspended by then). */
        TARGET_FAILED
    }

    /** Copies pages {@code first .. first + count} of the slab from any surviving copy to {@code target}. */
    private Run copyRun(SlabEntry slab, RemoteDonor target, int first, int count) {
        long[] indexes = new long[count];
        for (int i = 0; i < count; i++) {
            indexes[i] = first + i;
        }
        for (RemoteDonor source : slab.replicas()) {
            ReceivedPages received;
            try {
                received = source.connection().readPages(slab.id(), indexes, count).join();
            } catch (CompletionException e) {
                String why = "read for re-replication failed: " + rootMessage(e);
                if (ReplicaWriter.isUnreachable(e)) {
                    copyUnreachable(slab, source, why);
                } else {
                    copyFailed(slab, source, why);
                }
                continue;
            }
            try (ReceivedPages r = received) {
                PageBatch pages = r.pages();
                String bad = checkSource(pages);
                if (bad != null) {
                    copyFailed(slab, source, bad);
                    continue;
                }
                return writeCopy(slab, target, pages) ? Run.COPIED : Run.TARGET_FAILED;
            }
        }
        return Run.NO_SOURCE;
    }

    private static String checkSource(PageBatch pages) {
        for (int i = 0; i < pages.count(); i++) {
            if (!pages.checksumValid(i)) {
                return "page " + pages.pageIndex(i) + " fails its CRC32C";
            }
        }
        return null;
    }

    /**
     * Writes the copied pages to the target with their own versions and checksums. A newer version already
     * written there makes the donor refuse the batch as stale; then the pages are sent one by one and the stale
     * ones skipped.
     */
    static boolean writeCopy(SlabEntry slab, RemoteDonor target, PageBatch pages) {
        return writeCopy(slab, target, pages, 0, pages.count());
    }

    /** {@link #writeCopy(SlabEntry, RemoteDonor, PageBatch)} for pages {@code from .. from + n} of the batch. */
    static boolean writeCopy(SlabEntry slab, RemoteDonor target, PageBatch pages, int from, int n) {
        try {
            writeEntries(target, slab.id(), pages, from, n).join();
            return true;
        } catch (CompletionException e) {
            if (!isStale(e)) {
                return copyWriteFailed(slab, target, e);
            }
        }
        for (int i = from; i < from + n; i++) {
            if (pages.version(i) == 0) {
                continue;
            }
            try {
                writeEntries(target, slab.id(), pages, i, 1).join();
            } catch (CompletionException e) {
                if (!isStale(e)) {
                    return copyWriteFailed(slab, target, e);
                }
            }
        }
        return true;
    }

    /** A write to the copy being filled failed: one that did not answer is kept as a suspended copy. False. */
    private static boolean copyWriteFailed(SlabEntry slab, RemoteDonor target, CompletionException e) {
        LOG.info("slab {}: new copy on {} failed: {}", slab.id(), target, rootMessage(e));
        if (ReplicaWriter.isUnreachable(e)) {
            slab.suspend(target);
        }
        return false;
    }

    private static java.util.concurrent.CompletableFuture<Void> writeEntries(RemoteDonor target, long slabId,
                                                                          PageBatch pages, int from, int n) {
        // Never-written pages (version 0) are not sent: the new copy already reads them as zeros.
        int written = 0;
        for (int i = from; i < from + n; i++) {
            if (pages.version(i) != 0) {
                written++;
            }
        }
        if (written == 0) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        return target.connection().writePages(slabId, written, encoder -> {
            for (int i = from; i < from + n; i++) {
                if (pages.version(i) != 0) {
                    encoder.add(pages, i); // as stored: ciphertext and tag travel unchanged
                }
            }
        });
    }

    private static void throttle(long startNanos, long pagesDone, long rate) throws InterruptedException {
        long due = startNanos + (long) (pagesDone * (double) FrameHeader.PAGE_SIZE * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    private static boolean isStale(Throwable e) {
        return DonorException.isRefusal(e, ErrorCode.STALE_VERSION);
    }

    private static String rootMessage(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c.getMessage() != null ? c.getMessage() : c.toString();
    }

    @Override
    public void close() {
        running = false;
        worker.interrupt();
    }
}
