package dev.valet.client.engine.backup;

import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The disk backup of the client engine: a file or block device that receives a copy of every page write, so a page
 * whose donor replicas are all gone can still be read back.
 *
 * <h2>Writes: asynchronous, in order, without allocation</h2>
 * The client daemon pages out for the whole machine, so the write path must neither wait for the disk nor allocate.
 * {@link #open} therefore preallocates a ring of {@code queuePages} page slots in direct memory; {@link #write}
 * copies the page into the next free slot and returns at once with the write's sequence number (1, 2, 3, ...).
 * When every slot is taken, {@code write} <b>blocks</b> until the disk frees one: memory stays bounded and a slow
 * disk slows page-out down rather than losing writes.
 * <p>
 * One writer thread ({@code valet-backup-writer}) drains the slots strictly in sequence order with positional
 * writes at {@code pageNo * 4096}, so a later write of a page never lands before an earlier one, and once the queue
 * is empty the disk holds the last version of every page. Slots that are adjacent in the ring and hold consecutive
 * pages go out as one write of up to 64 pages.
 * <p>
 * The copy into the slot happens under the queue's monitor: that publishes the slot and its sequence number
 * together, keeps sequence order equal to ring order with any number of calling threads, and a 4 KiB copy is short.
 * The monitor is a plain {@code synchronized} one because waiting on it allocates nothing on the heap.
 *
 * <h2>Reads: the last version or nothing</h2>
 * {@link #read} first waits until every write queued before it has landed (so it cannot see an older version that
 * a queued write is about to replace), then reads the page and accepts it only if its CRC32C is the one the engine
 * expects. A page whose last landed write failed is refused outright: the disk then holds an older version, or a
 * torn mix, of the page.
 *
 * <h2>Failures</h2>
 * A write that fails is counted in {@link #failedWrites()} and marks its page failed until a later write of the
 * page succeeds. Failed pages are kept in a bitset of one bit per page (1/32768 of {@code sizeBytes}), chosen over
 * per-page sequence numbers because it is 64 times smaller and answers the only question reads ask. The first
 * failure of a burst is logged at WARN, the rest of the burst only counted, and the recovery logged at INFO.
 * <p>
 * Callers learn of failures through {@link #whenWritten}, which the engine uses only when no replica took a page;
 * nothing is allocated for it unless someone asks.
 *
 * <h2>Encrypted pages: sealed, never in clear</h2>
 * With page encryption the disk is opened {@code sealed} and takes only {@link #writeSealed}: the very ciphertext
 * the donors get, its version and tag in a record per page after the pages ({@link SealRecords}). Nothing is
 * encrypted for the disk, so no nonce is used again. {@link #readSealed} accepts a page only with exactly the
 * expected version and CRC32C; the caller authenticates it as a donor's copy. The version is given under the slab's
 * monitor right before the page is queued, so callers {@link #reserve} slots first: {@code writeSealed} never waits.
 */
public final class BackupDisk implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupDisk.class);

    static final String WRITER_THREAD = "valet-backup-writer";
    /** Most pages in one positional write (256 KiB): large enough to amortise the system call. */
    static final int MAX_RUN_PAGES = 64;
    /** How long {@link #close} waits for queued writes to land, and then for the writer thread to end. */
    static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final int PAGE = FrameHeader.PAGE_SIZE;
    /** The ring is one direct buffer, so the largest ring is what an int can index. */
    private static final int MAX_QUEUE_PAGES = Integer.MAX_VALUE / PAGE;

    private final Path path;
    /** Shared by the writer's channel and the reads; see {@link #read} for why reads do not use the channel. */
    private final RandomAccessFile file;
    private final FileChannel channel;
    private final long pages;
    private final int slots;
    private final Thread writer;
    /** The versions and tags of a sealed disk; null when it holds pages in clear. */
    private final SealRecords seals;

    // The ring. fillView is used by callers of write() under the lock, drainView only by the writer thread.
    private final ByteBuffer fillView;
    private final ByteBuffer drainView;
    private final long[] slotPage;
    /** Whether the last write that used each slot failed: lets whenWritten answer exactly for recent writes. */
    private final boolean[] slotFailed;
    /** One bit per page: its last landed write failed. */
    private final long[] failedPages;
    /** For reads; guarded by itself. */
    private final byte[] readPage = new byte[PAGE];

    // Everything below is guarded by lock.
    private final Object lock = new Object();
    /** Sequence of the last write queued; the ring holds writes landed+1 .. queued. */
    private long queued;
    /** Sequence of the last write that landed (on disk, or failed). */
    private long landed;
    /** Slots reserved for writeSealed calls to come: free slots others cannot take. */
    private int reserved;
    private long writtenPages;
    private long failedWrites;
    private long lastFailedSequence;
    private IOException lastFailure;
    /** Callers of whenWritten still waiting, earliest sequence first. */
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(Waiter::sequence));
    /** Threads waiting on the lock for the writer to make progress; the writer notifies only when there are some. */
    private int blocked;
    /** The writer waits on the lock for work; write() notifies only then. */
    private boolean writerIdle;
    private boolean writerRunning = true;
    private boolean closed;
    private boolean stopping;

    /** Test hook only: while true, the writer fails every write as if the disk had. */
    private volatile boolean failWritesForTest;

    private BackupDisk(Path path, RandomAccessFile file, long pages, int slots, boolean sealed) {
        this.path = path;
        this.file = file;
        this.channel = file.getChannel();
        this.pages = pages;
        this.slots = slots;
        ByteBuffer ring = ByteBuffer.allocateDirect(slots * PAGE);
        this.fillView = ring.duplicate();
        this.drainView = ring.duplicate();
        this.slotPage = new long[slots];
        this.slotFailed = new boolean[slots];
        this.failedPages = new long[(int) ((pages + 63) >>> 6)];
        this.seals = sealed ? new SealRecords(pages, slots) : null;
        this.writer = new Thread(this::drain, WRITER_THREAD);
        writer.setDaemon(true);
    }

    /** {@link #open(Path, long, int, boolean) open} a disk that holds pages in clear. */
    public static BackupDisk open(Path path, long sizeBytes, int queuePages) throws IOException {
        return open(path, sizeBytes, queuePages, false);
    }

    /**
     * Opens the backup disk at {@code path} for pages {@code 0 .. sizeBytes/4096 - 1} and starts its writer thread.
     * A regular file is created if missing and extended (sparse) to the size needed if shorter; anything else (a
     * block device) is never resized and must already hold it: {@code sizeBytes}, or {@code sealed} (it holds
     * encrypted pages, {@link #writeSealed}, and their seal records after them) 1/128 more
     * ({@link SealRecords#diskBytes}).
     *
     * @param queuePages slots in the write queue (4 KiB of direct memory each); {@link #write} blocks when all are
     *                   in use
     * @throws IOException if the path is a directory, cannot be opened for writing, or is too small
     */
    public static BackupDisk open(Path path, long sizeBytes, int queuePages, boolean sealed) throws IOException {
        if (sizeBytes < PAGE || (sizeBytes / PAGE + 63) >>> 6 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("backup disk size must be 4096 bytes to 512 TiB, not " + sizeBytes);
        }
        if (queuePages < 1 || queuePages > MAX_QUEUE_PAGES) {
            throw new IllegalArgumentException("queuePages must be 1 to " + MAX_QUEUE_PAGES + ", not " + queuePages);
        }
        long needed = sealed ? SealRecords.diskBytes(sizeBytes / PAGE * PAGE) : sizeBytes;
        RandomAccessFile file = BackupFile.open(path, needed);
        BackupDisk disk = new BackupDisk(path, file, sizeBytes / PAGE, queuePages, sealed);
        disk.writer.start();
        return disk;
    }

    /**
     * Queues a copy of the page at {@code src[srcIndex .. srcIndex+4096)} for page {@code pageNo}; {@code src} may be
     * reused as soon as this returns, and its indexes are not changed. Blocks while the queue is full.
     *
     * @return the write's sequence number, for {@link #whenWritten}
     * @throws IllegalArgumentException if {@code pageNo} is outside the disk
     * @throws IllegalStateException    if the disk is closed (also when it is closed while this waits), or sealed
     * @throws InterruptedException     if interrupted while waiting for a free slot; nothing was queued
     */
    public long write(long pageNo, ByteBuf src, int srcIndex) throws InterruptedException {
        checkPage(pageNo);
        checkIndex(src, srcIndex);
        if (seals != null) {
            throw new IllegalStateException("backup disk " + path + " holds encrypted pages: it takes none in clear");
        }
        synchronized (lock) {
            while (queued - landed + reserved >= slots && accepting()) {
                awaitProgress();
            }
            requireAccepting();
            return enqueue(pageNo, src, srcIndex);
        }
    }

    /**
     * Reserves {@code count} free slots for as many {@link #writeSealed} calls; blocks until they are free.
     * Reservations not used are given back with {@link #unreserve}.
     *
     * @throws IllegalStateException if the disk is closed (also when it is closed while this waits)
     * @throws InterruptedException  if interrupted while waiting; nothing was reserved
     */
    public void reserve(int count) throws InterruptedException {
        if (count < 1 || count > slots) {
            throw new IllegalArgumentException("cannot reserve " + count + " of " + slots + " slots");
        }
        synchronized (lock) {
            while (queued - landed + reserved + count > slots && accepting()) {
                awaitProgress();
            }
            requireAccepting();
            reserved += count;
        }
    }

    /** Gives back {@code count} reserved slots that no {@link #writeSealed} used. */
    public void unreserve(int count) {
        synchronized (lock) {
            reserved -= Math.min(count, reserved);
            if (blocked > 0) {
                lock.notifyAll();
            }
        }
    }

    /**
     * Queues, in a slot {@link #reserve reserved} before (never waiting), page {@code pageNo} of a sealed disk as the
     * donors get it: the ciphertext at {@code sealed[sealedIndex .. +4096)}, encrypted under {@code version}, and its
     * tag at {@code tags[tagIndex .. +16)}; both buffers may be reused as soon as this returns.
     *
     * @return the write's sequence number, for {@link #whenWritten}
     * @throws IllegalStateException if the disk is not sealed, no slot is reserved, or the disk is closed (the
     *                               reservation is used up all the same)
     */
    public long writeSealed(long pageNo, long version, ByteBuf sealed, int sealedIndex, ByteBuf tags, int tagIndex) {
        checkPage(pageNo);
        checkIndex(sealed, sealedIndex);
        if (seals == null) {
            throw new IllegalStateException("backup disk " + path + " holds pages in clear, not sealed ones");
        }
        synchronized (lock) {
            if (reserved == 0) {
                throw new IllegalStateException("backup disk " + path + ": writeSealed without a reserved slot");
            }
            reserved--;
            requireAccepting();
            seals.fill((int) (queued % slots), version, tags, tagIndex);
            return enqueue(pageNo, sealed, sealedIndex);
        }
    }

    /** Whether the disk holds encrypted pages ({@link #writeSealed}, {@link #readSealed}). */
    public boolean sealed() {
        return seals != null;
    }

    /** Copies the page into the next slot and publishes it; the caller holds the lock and made sure it is free. */
    private long enqueue(long pageNo, ByteBuf src, int srcIndex) {
        int slot = (int) (queued % slots);
        int offset = slot * PAGE;
        src.getBytes(srcIndex, fillView.limit(offset + PAGE).position(offset));
        slotPage[slot] = pageNo;
        long sequence = ++queued;
        if (writerIdle) {
            writerIdle = false;
            lock.notifyAll();
        }
        return sequence;
    }

    private void requireAccepting() {
        if (!accepting()) {
            throw new IllegalStateException("backup disk " + path + (closed ? " is closed" : " has stopped"));
        }
    }

    /**
     * A future that completes once write {@code sequence} and every earlier one have landed, or exceptionally if
     * write {@code sequence} failed, if an earlier write failed while the caller waited, or if the disk was closed
     * first. For a write that landed long ago (more than {@code queuePages} writes back) whose outcome is no longer
     * kept, the answer is conservative: failed if any write since it failed.
     * <p>
     * The future is completed on the writer thread: dependent actions attached without an executor run there and
     * must be short and must never call {@link #write} (which may wait for a slot only that thread frees).
     *
     * @throws IllegalArgumentException if no write has that sequence number yet
     */
    public CompletableFuture<Void> whenWritten(long sequence) {
        synchronized (lock) {
            if (sequence < 0 || sequence > queued) {
                throw new IllegalArgumentException("no write " + sequence + " yet; the last is " + queued);
            }
            if (sequence <= landed) {
                boolean failed = sequence > 0 && (sequence > queued - slots
                        ? slotFailed[slotOf(sequence)] : sequence <= lastFailedSequence);
                return failed ? CompletableFuture.failedFuture(failure("write " + sequence + " failed", lastFailure))
                        : CompletableFuture.completedFuture(null);
            }
            if (!writerRunning) {
                return CompletableFuture.failedFuture(failure("closed before write " + sequence + " landed", null));
            }
            Waiter waiter = new Waiter(sequence, new CompletableFuture<>());
            waiters.add(waiter);
            return waiter.future();
        }
    }

    /**
     * Reads page {@code pageNo} into {@code dst[dstIndex .. dstIndex+4096)} after every write queued before this call
     * has landed, and tells whether it is the content the engine expects.
     * <p>
     * The read goes through {@link RandomAccessFile} rather than the {@link FileChannel}: a thread interrupted during
     * a channel operation closes the channel, which would take the whole backup down with one caller's interrupt.
     *
     * @return true iff the page's CRC32C equals {@code expectedCrc}; on false the disk does not hold the expected
     *         content (an older version, a failed write, or a page never written) and {@code dst} may or may not
     *         have been overwritten: the caller must ignore it
     * @throws IOException          if the read fails, or the disk was closed
     * @throws InterruptedException if interrupted while waiting for earlier writes to land
     */
    public boolean read(long pageNo, int expectedCrc, ByteBuf dst, int dstIndex)
            throws IOException, InterruptedException {
        checkPage(pageNo);
        checkIndex(dst, dstIndex);
        if (seals != null) {
            throw new IllegalStateException("backup disk " + path + " holds encrypted pages: read them sealed");
        }
        if (!awaitLanded(pageNo)) {
            return false;
        }
        synchronized (readPage) {
            file.seek(pageNo * PAGE);
            file.readFully(readPage);
            dst.setBytes(dstIndex, readPage);
            return PageChecksum.crc32c(readPage, 0) == expectedCrc;
        }
    }

    /**
     * Reads page {@code pageNo} of a sealed disk, its ciphertext into {@code dst[dstIndex .. +4096)} and its tag into
     * {@code tagDst[tagIndex .. +16)}, after every write queued before this call has landed, and tells whether it is
     * the page the engine expects. The caller then authenticates and decrypts it under {@code expectedVersion}.
     *
     * @return null iff the disk holds the page encrypted under {@code expectedVersion} with the CRC32C
     *         {@code expectedCrc} (of the ciphertext); else why not (the buffers then hold anything)
     * @throws IOException          if the read fails, or the disk was closed
     * @throws InterruptedException if interrupted while waiting for earlier writes to land
     */
    public String readSealed(long pageNo, long expectedVersion, int expectedCrc, ByteBuf dst, int dstIndex,
                             ByteBuf tagDst, int tagIndex) throws IOException, InterruptedException {
        checkPage(pageNo);
        checkIndex(dst, dstIndex);
        if (seals == null) {
            throw new IllegalStateException("backup disk " + path + " holds pages in clear, not sealed ones");
        }
        if (!awaitLanded(pageNo)) {
            return "its last write of page " + pageNo + " failed";
        }
        synchronized (readPage) {
            return seals.read(file, pageNo, expectedVersion, expectedCrc, readPage, dst, dstIndex, tagDst, tagIndex);
        }
    }

    /**
     * Waits until every write queued before this call has landed; false if the last landed write of {@code pageNo}
     * failed (the disk holds an older version of it, or a torn mix).
     */
    private boolean awaitLanded(long pageNo) throws IOException, InterruptedException {
        synchronized (lock) {
            long target = queued;
            while (landed < target && !closed && writerRunning) {
                awaitProgress();
            }
            if (closed || landed < target) {
                throw new IOException("backup disk " + path + " is closed");
            }
            return (failedPages[(int) (pageNo >>> 6)] & 1L << pageNo) == 0;
        }
    }

    /** Writes queued and not yet landed. */
    public long pendingWrites() {
        synchronized (lock) {
            return queued - landed;
        }
    }

    /** Pages written to the disk successfully since open. */
    public long writtenPages() {
        synchronized (lock) {
            return writtenPages;
        }
    }

    /** Page writes that failed since open. */
    public long failedWrites() {
        synchronized (lock) {
            return failedWrites;
        }
    }

    /**
     * Stops taking writes, waits up to 10 s for the queued ones to land, stops the writer thread and closes the
     * disk. Writes still queued after that are dropped (and logged); their {@link #whenWritten} futures fail.
     * Idempotent.
     */
    @Override
    public void close() {
        boolean interrupted = false;
        long undrained;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
            long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
            long left;
            while (landed < queued && writerRunning && (left = deadline - System.nanoTime()) > 0) {
                try {
                    blocked++;
                    lock.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                } catch (InterruptedException e) {
                    interrupted = true;
                    break;
                } finally {
                    blocked--;
                }
            }
            undrained = queued - landed;
            stopping = true;
            lock.notifyAll();
        }
        if (undrained > 0) {
            LOG.warn("backup disk {}: closed with {} writes not on disk", path, undrained);
        }
        try {
            writer.join(TimeUnit.NANOSECONDS.toMillis(CLOSE_WAIT_NANOS));
        } catch (InterruptedException e) {
            interrupted = true;
        }
        try {
            file.close();
        } catch (IOException e) {
            LOG.warn("backup disk {}: close failed", path, e);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Test hook, never used in production: while {@code fail} is true, every write fails as if the disk had. */
    void failWritesForTest(boolean fail) {
        failWritesForTest = fail;
    }

    @Override
    public String toString() {
        return "BackupDisk[" + path + "]";
    }

    /** The writer thread: takes runs of slots in order, writes them, and reports them landed. */
    private void drain() {
        List<Waiter> ready = new ArrayList<>();
        long burst = 0;
        try {
            while (true) {
                int slot;
                int count;
                synchronized (lock) {
                    while (landed == queued && !stopping) {
                        writerIdle = true;
                        lock.wait();
                    }
                    if (stopping) {
                        return;
                    }
                    slot = slotOf(landed + 1);
                    count = runLength(slot, queued - landed);
                }
                IOException failure = null;
                try {
                    writeRun(slot, count);
                } catch (IOException e) {
                    failure = e;
                }
                if (failure != null && burst == 0) {
                    LOG.warn("backup disk {}: write failed; further failures are counted, not logged, until a write"
                            + " succeeds", path, failure);
                } else if (failure == null && burst > 0) {
                    LOG.info("backup disk {}: writes succeed again after {} failed pages", path, burst);
                }
                burst = failure == null ? 0 : burst + count;
                land(slot, count, failure, ready);
                Waiter.completeAll(ready, failure == null || ready.isEmpty() ? null : failure("write failed", failure));
            }
        } catch (InterruptedException e) {
            LOG.warn("backup disk {}: writer thread interrupted; the disk stops taking writes", path);
        } catch (RuntimeException | Error e) {
            LOG.error("backup disk {}: writer thread died; the disk stops taking writes", path, e);
            throw e;
        } finally {
            synchronized (lock) {
                writerRunning = false;
                ready.addAll(waiters);
                waiters.clear();
                lock.notifyAll();
            }
            Waiter.completeAll(ready, failure("stopped before the write landed", null));
        }
    }

    /** How many slots from {@code slot} on hold consecutive pages and can go out as one write. */
    private int runLength(int slot, long available) {
        long first = slotPage[slot];
        int count = 1;
        while (count < available && count < MAX_RUN_PAGES && slot + count < slots
                && slotPage[slot + count] == first + count) {
            count++;
        }
        return count;
    }

    private void writeRun(int slot, int count) throws IOException {
        if (failWritesForTest) {
            throw new IOException("write failure injected by a test");
        }
        int offset = slot * PAGE;
        drainView.limit(offset + count * PAGE).position(offset);
        long position = slotPage[slot] * PAGE;
        while (drainView.hasRemaining()) {
            position += channel.write(drainView, position);
        }
        if (seals != null) {
            seals.writeRun(channel, slot, count, slotPage[slot]);
        }
    }

    /** Records a run as landed and moves the waiters it settles to {@code ready}. */
    private void land(int slot, int count, IOException failure, List<Waiter> ready) {
        synchronized (lock) {
            for (int i = slot; i < slot + count; i++) {
                long page = slotPage[i];
                slotFailed[i] = failure != null;
                if (failure != null) {
                    failedPages[(int) (page >>> 6)] |= 1L << page;
                } else {
                    failedPages[(int) (page >>> 6)] &= ~(1L << page);
                }
            }
            landed += count;
            if (failure == null) {
                writtenPages += count;
            } else {
                failedWrites += count;
                lastFailedSequence = landed;
                lastFailure = failure;
            }
            // A failure fails every waiter: each waits for a sequence at or after the failed run.
            while (!waiters.isEmpty() && (failure != null || waiters.peek().sequence() <= landed)) {
                ready.add(waiters.poll());
            }
            if (blocked > 0) {
                lock.notifyAll();
            }
        }
    }

    private IOException failure(String what, IOException cause) {
        return new IOException("backup disk " + path + ": " + what, cause);
    }

    /** Waits on the lock for the writer to land something; the caller holds the lock. */
    private void awaitProgress() throws InterruptedException {
        blocked++;
        try {
            lock.wait();
        } finally {
            blocked--;
        }
    }

    private boolean accepting() {
        return !closed && writerRunning;
    }

    private int slotOf(long sequence) {
        return (int) ((sequence - 1) % slots);
    }

    private void checkPage(long pageNo) {
        if (pageNo < 0 || pageNo >= pages) {
            throw new IllegalArgumentException("page " + pageNo + " is outside backup disk " + path + " (0 to "
                    + (pages - 1) + ")");
        }
    }

    private static void checkIndex(ByteBuf buf, int index) {
        if (index < 0 || index > buf.capacity() - PAGE) {
            throw new IndexOutOfBoundsException("a page at " + index + " does not fit a buffer of " + buf.capacity());
        }
    }
}
