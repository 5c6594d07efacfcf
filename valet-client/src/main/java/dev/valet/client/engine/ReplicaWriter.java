package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Phaser;

/**
 * Writes a run of pages of one slab to every copy at once.
 *
 * <p>The acknowledgement rule: a write completes when every donor it was sent to has answered, successfully or
 * not, and it is stored on {@code numReplica} copies, at least one of them full (the others full, or being filled:
 * a copy being filled that stops short is kept as a suspended copy, see {@link SlabEntry}). So an acknowledged write
 * survives the loss of {@code numReplica - 1} donors whatever else is late. A copy that fails is dropped from the
 * slab (which re-replication then repairs). When fewer copies stored it and a backup disk is on, the write completes
 * once the disk has it too; otherwise it is held ({@link RequestHold}) and sent again, with new versions, once the
 * slab has enough copies to write to again (a suspended copy brought back, or re-replication filling a new one).
 *
 * <p>A copy that does not answer in time, or whose connection drops, is suspended rather than dropped: it may have
 * missed this write, so it is neither written nor counted until re-replication has brought it up to date. A write
 * that could not reach enough copies (every copy suspended, too few live donors to place the slab, targets late) is
 * held the same way; it is not even sent while the slab has fewer than {@code numReplica} copies to write to.
 *
 * <p>Versions are assigned under the slab's monitor at submission, so two writes of one page are ordered; a donor
 * refuses the older one if it arrives second ({@code STALE_VERSION}), which counts as stored: a newer version is
 * already there.
 */
final class ReplicaWriter {
    private final SlabMap map;
    private final SlabPlacer placer;
    private final ReReplicator repair;
    private final BackupDisk backup;
    private final RequestHold hold;
    private final int numReplica;

    ReplicaWriter(SlabMap map, SlabPlacer placer, ReReplicator repair, BackupDisk backup, RequestHold hold,
                  int numReplica) {
        this.map = map;
        this.placer = placer;
        this.repair = repair;
        this.backup = backup;
        this.hold = hold;
        this.numReplica = numReplica;
    }

    /** Writes pages {@code firstPage .. firstPage + count} (one slab, one request's worth) from {@code src}. */
    CompletableFuture<Void> write(SlabEntry slab, long firstPage, int count, ByteBuf src, int srcIndex) {
        int[] crcs = new int[count];
        for (int i = 0; i < count; i++) {
            crcs[i] = PageChecksum.crc32c(src, srcIndex + i * FrameHeader.PAGE_SIZE);
        }
        long backupSequence = -1;
        if (backup != null) {
            try {
                for (int i = 0; i < count; i++) {
                    backupSequence = backup.write(firstPage + i, src, srcIndex + i * FrameHeader.PAGE_SIZE);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return CompletableFuture.failedFuture(new PageIoException("interrupted queueing the backup write"));
            }
        }
        long lastBackupWrite = backupSequence;
        return hold.run(() -> mapAndSend(slab, firstPage, count, crcs, src, srcIndex, lastBackupWrite, true));
    }

    private CompletableFuture<Void> mapAndSend(SlabEntry slab, long firstPage, int count, int[] crcs, ByteBuf src,
                                               int srcIndex, long backupSequence, boolean mayRetry) {
        if (slab.isMapped()) {
            return send(slab, firstPage, count, crcs, src, srcIndex, backupSequence, null, mayRetry);
        }
        return placer.ensureMapped(slab).handle((ok, err) -> err instanceof CompletionException
                        && err.getCause() != null ? err.getCause() : err)
                .thenCompose(mapError -> send(slab, firstPage, count, crcs, src, srcIndex, backupSequence,
                        mapError, mayRetry));
    }

    private CompletableFuture<Void> send(SlabEntry slab, long firstPage, int count, int[] crcs, ByteBuf src,
                                         int srcIndex, long backupSequence, Throwable mapError, boolean mayRetry) {
        WriteRound round = new WriteRound(slab, firstPage, count, crcs, src, srcIndex, backupSequence, mapError,
                mayRetry);
        synchronized (slab) {
            List<RemoteDonor> targets = slab.writeTargets();
            if (backup == null && (mapError == null || mapError instanceof WaitForDonorsException)
                    && (slab.replicas().isEmpty() || targets.size() < numReplica)) {
                // Too few copies to write to (not placed yet, copies suspended, a new one not started yet): hold the
                // write without giving its pages new versions that could not be acknowledged.
                slab.markWanted();
                if (!slab.replicas().isEmpty()) {
                    repair.enqueue(slab);
                }
                return CompletableFuture.failedFuture(mapError != null ? mapError : new WaitForDonorsException(
                        "pages " + firstPage + ".." + (firstPage + count - 1) + " of slab " + slab.id() + ": "
                                + targets.size() + " of " + numReplica + " copies can be written "
                                + slab));
            }
            for (int i = 0; i < count; i++) {
                round.versions[i] = map.nextVersion(firstPage + i, crcs[i]);
            }
            round.targets = targets;
            round.replicas = slab.replicas();
            round.gate = slab.enterWrite();
        }
        round.remaining = round.targets.size() + 1;
        for (RemoteDonor donor : round.targets) {
            DonorConnection c = donor.connection();
            CompletableFuture<Void> sent;
            try {
                if (c == null) {
                    throw new DonorUnavailableException(donor + ": not connected");
                }
                sent = c.writePages(slab.id(), count, round);
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            boolean fullCopy = round.replicas.contains(donor);
            sent.whenComplete((ok, err) -> round.answered(donor, fullCopy, err));
        }
        round.answered(null, false, null);
        return round;
    }

    /**
     * One write of a run of pages to every target copy: the pages it encodes (the same for every target), the
     * answers it counts, and the future the caller waits on, in one object. It completes when the last target has
     * answered (see the acknowledgement rule above).
     */
    private final class WriteRound extends CompletableFuture<Void> implements DonorConnection.PageSource {
        private final SlabEntry slab;
        private final long firstPage;
        private final int count;
        private final int[] crcs;
        private final long[] versions;
        private final ByteBuf src;
        private final int srcIndex;
        private final long backupSequence;
        private final Throwable mapError;
        private final boolean mayRetry;
        private List<RemoteDonor> targets;
        private List<RemoteDonor> replicas;
        private Phaser gate;
        /** Answers still to come, plus one for the sender (guarded by this round). */
        private int remaining;
        /** Full copies that stored it. */
        private int stored;
        /** Copies being filled that stored it. */
        private int storedFilling;
        private int otherFailures;
        private int unreachable;

        WriteRound(SlabEntry slab, long firstPage, int count, int[] crcs, ByteBuf src, int srcIndex,
                   long backupSequence, Throwable mapError, boolean mayRetry) {
            this.slab = slab;
            this.firstPage = firstPage;
            this.count = count;
            this.crcs = crcs;
            this.versions = new long[count];
            this.src = src;
            this.srcIndex = srcIndex;
            this.backupSequence = backupSequence;
            this.mapError = mapError;
            this.mayRetry = mayRetry;
        }

        @Override
        public void addPagesTo(PageBatchEncoder encoder) {
            long firstInSlab = firstPage - slab.firstPage();
            for (int i = 0; i < count; i++) {
                encoder.add(firstInSlab + i, versions[i], crcs[i], src, srcIndex + i * FrameHeader.PAGE_SIZE);
            }
        }

        /** One target's answer ({@code donor == null}: the sender has sent to every target). */
        void answered(RemoteDonor donor, boolean fullCopy, Throwable err) {
            if (donor != null) {
                if (err != null && !isSuperseded(err)) {
                    String why = "write failed: " + rootMessage(err);
                    if (isUnreachable(err)) {
                        repair.copyUnreachable(slab, donor, why);
                    } else {
                        repair.copyFailed(slab, donor, why);
                    }
                }
            }
            synchronized (this) {
                if (donor != null) {
                    if (err == null || isSuperseded(err)) {
                        stored += fullCopy ? 1 : 0;
                        storedFilling += fullCopy ? 0 : 1;
                    } else if (isUnreachable(err)) {
                        unreachable += fullCopy ? 1 : 0;
                    } else if (!isSlabGone(err) || !fullCopy) {
                        otherFailures++;
                    }
                }
                if (--remaining > 0) {
                    return;
                }
            }
            gate.arriveAndDeregister();
            finish();
        }

        private void finish() {
            if (stored > 0 && stored + storedFilling >= numReplica) {
                complete(null);
                return;
            }
            if (stored == 0 && mayRetry && !targets.isEmpty() && otherFailures == 0 && unreachable == 0) {
                // Every copy was gone (NO_SUCH_SLAB): a donor under memory pressure freed the slab before its first
                // page arrived. The copies are dropped by now, so the slab is placed afresh; once.
                mapAndSend(slab, firstPage, count, crcs, src, srcIndex, backupSequence, false)
                        .whenComplete((ok, err) -> {
                            if (err == null) {
                                complete(null);
                            } else {
                                completeExceptionally(err);
                            }
                        });
                return;
            }
            repair.enqueue(slab); // short of copies: re-replication brings back or makes the missing ones
            if (backup != null && backupSequence >= 0) {
                backup.whenWritten(backupSequence).whenComplete((ok, err) -> {
                    if (err == null) {
                        complete(null);
                    } else {
                        // Too few copies and not the disk either: wait for donors (held), as without a disk.
                        slab.markWanted();
                        completeExceptionally(new WaitForDonorsException(tooFewStored() + ", and the backup disk"
                                + " failed: " + rootMessage(err)));
                    }
                });
            } else if (stored + storedFilling > 0 || unreachable > 0) {
                slab.markWanted();
                completeExceptionally(new WaitForDonorsException(tooFewStored()));
            } else {
                completeExceptionally(new PageIoException(tooFewStored()));
            }
        }

        private String tooFewStored() {
            return "pages " + firstPage + ".." + (firstPage + count - 1) + " of slab " + slab.id() + ": stored on "
                    + (stored + storedFilling) + " of " + numReplica + " copies" + (unreachable > 0 ? ", "
                    + unreachable + " of " + replicas.size() + " copies did not answer in time" : "")
                    + (mapError != null ? " (" + rootMessage(mapError) + ")" : "");
        }
    }

    /** The donor did not answer (late, disconnected, not connected), as opposed to answering with a refusal. */
    static boolean isUnreachable(Throwable err) {
        Throwable e = err;
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e instanceof DonorUnavailableException;
    }

    private static boolean isSlabGone(Throwable err) {
        return DonorException.isRefusal(err, ErrorCode.NO_SUCH_SLAB);
    }

    private static boolean isSuperseded(Throwable err) {
        return DonorException.isRefusal(err, ErrorCode.STALE_VERSION);
    }

    static String rootMessage(Throwable err) {
        Throwable e = err;
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
