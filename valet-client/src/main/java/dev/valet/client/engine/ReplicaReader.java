package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;

/**
 * Reads a run of pages of one slab from the best copy, falling over to the next on error, timeout, a wrong version
 * or a bad checksum, then to the suspended copies (their answer is checked like any other), then to the backup
 * disk, else failing. A copy is accepted only if every page comes back with exactly the version and CRC32C of its
 * last write (version 0 and zeros for a page never written). A full copy that returns anything else is stale or
 * corrupt and is dropped from the slab (a copy that missed writes because it answered late was suspended when it
 * did, so a full copy is never merely behind); one that does not answer in time is suspended (re-replication
 * brings it up to date once its donor answers). When no copy answered and some may still (a late or suspected
 * donor), and there is no backup disk, the read is held ({@link RequestHold}) and tried again as donors come back.
 */
final class ReplicaReader {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaReader.class);
    private static final Comparator<RemoteDonor> FASTEST_FIRST = Comparator.comparingLong(RemoteDonor::latencyNanos);

    private final SlabMap map;
    private final ReReplicator repair;
    private final BackupDisk backup;
    private final Executor backupReads;
    private final RequestHold hold;

    ReplicaReader(SlabMap map, ReReplicator repair, BackupDisk backup, Executor backupReads, RequestHold hold) {
        this.map = map;
        this.repair = repair;
        this.backup = backup;
        this.backupReads = backupReads;
        this.hold = hold;
    }

    CompletableFuture<Void> read(SlabEntry slab, long firstPage, int count, ByteBuf dst, int dstIndex) {
        return hold.run(() -> attempt(slab, firstPage, count, dst, dstIndex));
    }

    private CompletableFuture<Void> attempt(SlabEntry slab, long firstPage, int count, ByteBuf dst, int dstIndex) {
        long[] versions = new long[count];
        int[] crcs = new int[count];
        long[] indexes = new long[count];
        boolean anyWritten = false;
        List<RemoteDonor> candidates;
        List<RemoteDonor> suspended;
        RemoteDonor filling;
        boolean comingBack;
        synchronized (slab) {
            for (int i = 0; i < count; i++) {
                versions[i] = map.version(firstPage + i);
                crcs[i] = map.crc(firstPage + i);
                indexes[i] = firstPage - slab.firstPage() + i;
                anyWritten |= versions[i] != 0;
            }
            candidates = new ArrayList<>(slab.replicas());
            suspended = slab.suspended();
            filling = slab.catchingUp();
            comingBack = slab.hasCopyComingBack();
        }
        if (!anyWritten) {
            // Never written: a block device reads zeros there, and so do we, without asking anyone.
            dst.setZero(dstIndex, count * FrameHeader.PAGE_SIZE);
            return CompletableFuture.completedFuture(null);
        }
        candidates.sort(FASTEST_FIRST);
        int fullCopies = candidates.size();
        // Last resort, versions checked: suspended copies, then the copy being filled (it may hold the pages).
        for (RemoteDonor d : suspended) {
            addIfAnswering(candidates, d);
        }
        if (filling != null) {
            addIfAnswering(candidates, filling);
        }
        Attempt attempt = new Attempt(slab, firstPage, count, versions, crcs, indexes, dst, dstIndex, candidates,
                fullCopies, comingBack);
        attempt.next(0);
        return attempt;
    }

    private static void addIfAnswering(List<RemoteDonor> candidates, RemoteDonor d) {
        if (d.isLive() && d.connection() != null && d.connection().isOpen()) {
            candidates.add(d);
        }
    }

    /**
     * One attempt to read a run of pages: the future its caller waits on, and the callback of each copy asked in
     * turn, in one object.
     */
    private final class Attempt extends CompletableFuture<Void> implements BiConsumer<ReceivedPages, Throwable> {
        private final SlabEntry slab;
        private final long firstPage;
        private final int count;
        private final long[] versions;
        private final int[] crcs;
        private final long[] indexes;
        private final ByteBuf dst;
        private final int dstIndex;
        private final List<RemoteDonor> candidates;
        private final int fullCopies;
        /** The candidate being asked. */
        private int k;
        /** Some copy may still answer with the data: a late one, a suspended one, or one being resynced. */
        private boolean mayComeBack;

        Attempt(SlabEntry slab, long firstPage, int count, long[] versions, int[] crcs, long[] indexes, ByteBuf dst,
                int dstIndex, List<RemoteDonor> candidates, int fullCopies, boolean comingBack) {
            this.slab = slab;
            this.firstPage = firstPage;
            this.count = count;
            this.versions = versions;
            this.crcs = crcs;
            this.indexes = indexes;
            this.dst = dst;
            this.dstIndex = dstIndex;
            this.candidates = candidates;
            this.fullCopies = fullCopies;
            this.mayComeBack = comingBack;
        }

        void next(int k) {
            if (k == candidates.size()) {
                fromBackup();
                return;
            }
            this.k = k;
            CompletableFuture<ReceivedPages> reply;
            try {
                reply = candidates.get(k).connection().readPages(slab.id(), indexes, count);
            } catch (RuntimeException e) {
                reply = CompletableFuture.failedFuture(e);
            }
            reply.whenComplete(this);
        }

        /** The answer of candidate {@code k}. */
        @Override
        public void accept(ReceivedPages received, Throwable err) {
            RemoteDonor donor = candidates.get(k);
            boolean fullCopy = k < fullCopies;
            if (err != null) {
                String why = "read failed: " + ReplicaWriter.rootMessage(err);
                if (ReplicaWriter.isUnreachable(err)) {
                    mayComeBack = true;
                    if (fullCopy) {
                        repair.copyUnreachable(slab, donor, why);
                    }
                } else if (fullCopy) {
                    repair.copyFailed(slab, donor, why);
                }
                next(k + 1);
                return;
            }
            String problem;
            try (ReceivedPages r = received) {
                problem = verify(r.pages());
                if (problem == null) {
                    PageBatch pages = r.pages();
                    for (int i = 0; i < count; i++) {
                        dst.setBytes(dstIndex + i * FrameHeader.PAGE_SIZE, pages.buffer(), pages.dataIndex(i),
                                FrameHeader.PAGE_SIZE);
                    }
                }
            }
            if (problem == null) {
                complete(null);
            } else if (!fullCopy) {
                LOG.debug("donor {} slab {} (suspended copy): {}; trying the next copy", donor, slab.id(),
                        problem);
                next(k + 1);
            } else {
                LOG.warn("donor {} slab {}: {}; trying the next copy", donor, slab.id(), problem);
                repair.copyFailed(slab, donor, problem);
                next(k + 1);
            }
        }

        /** Null if every page is exactly its last write, else what is wrong with the first page that is not. */
        private String verify(PageBatch pages) {
            for (int i = 0; i < count; i++) {
                long page = firstPage + i;
                if (pages.version(i) != versions[i]) {
                    return "page " + page + " has version " + pages.version(i) + ", expected " + versions[i];
                }
                if (!pages.checksumValid(i)) {
                    return "page " + page + " fails its CRC32C";
                }
                if (versions[i] != 0 && pages.crc(i) != crcs[i]) {
                    return "page " + page + " version " + versions[i] + " has another checksum than was written";
                }
            }
            return null;
        }

        private void fromBackup() {
            if (backup == null) {
                fail("no copy holds the last written version, and there is no backup disk");
                return;
            }
            backupReads.execute(() -> {
                try {
                    for (int i = 0; i < count; i++) {
                        int at = dstIndex + i * FrameHeader.PAGE_SIZE;
                        if (versions[i] == 0) {
                            dst.setZero(at, FrameHeader.PAGE_SIZE);
                        } else if (!backup.read(firstPage + i, crcs[i], dst, at)) {
                            fail("page " + (firstPage + i) + ": no copy holds version " + versions[i]
                                    + " and the backup disk does not either");
                            return;
                        }
                    }
                    complete(null);
                } catch (IOException | RuntimeException e) {
                    fail("backup disk read failed: " + e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    completeExceptionally(new PageIoException("interrupted reading the backup disk"));
                }
            });
        }

        /**
         * Nothing served the read: it waits (held) while a copy may still answer with the data (late, suspended or
         * being resynced: the disk may have missed a write while it was full or failing), else it fails.
         */
        private void fail(String why) {
            String what = "pages " + firstPage + ".." + (firstPage + count - 1) + " of slab " + slab.id() + ": ";
            if (mayComeBack) {
                slab.markWanted();
                completeExceptionally(new WaitForDonorsException(what + "no copy answered with them ("
                        + (slab.replicas().isEmpty() ? "every copy is on a suspected donor " + slab.suspended()
                        : "copies late or suspended: " + candidates) + "); " + why));
            } else {
                completeExceptionally(new PageIoException(what + why));
            }
        }
    }

}
