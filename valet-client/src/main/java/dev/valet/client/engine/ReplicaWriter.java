package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageChecksum;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;

import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Phaser;
import java.util.function.Supplier;

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
 *
 * <p>With page encryption ({@code encryption.mode: aes-256-gcm}) each page is encrypted under its version, inside
 * the slab's monitor where the version is given, into the round's own buffer; the CRC32C then covers the
 * ciphertext (what the donors can check without the key), and the tag travels in the entry header. A round that
 * is sent again (held, retried) is encrypted again under its new versions. A backup disk then gets that same
 * ciphertext, version and tag, queued under the slab's monitor right after the versions are given (so the disk's
 * last write of a page is the version the map ends up with), into slots reserved before the monitor was taken.
 */
final class ReplicaWriter {
    /** Write rounds kept for reuse: more than ever run at once (a round ends before its request's answer). */
    private static final int IDLE_ROUNDS = 1024;

    private final SlabMap map;
    private final SlabPlacer placer;
    private final ReReplicator repair;
    private final BackupDisk backup;
    private final RequestHold hold;
    private final int numReplica;
    /** Null when pages leave in clear. */
    private final PageCipher cipher;
    /** A backup disk that takes the ciphertext ({@link BackupDisk#writeSealed}) rather than the page in clear. */
    private final boolean sealedBackup;
    private final Queue<WriteRound> idle = PlatformDependent.newFixedMpmcQueue(IDLE_ROUNDS);

    ReplicaWriter(SlabMap map, SlabPlacer placer, ReReplicator repair, BackupDisk backup, RequestHold hold,
                  int numReplica, PageCipher cipher) {
        this.map = map;
        this.cipher = cipher;
        this.placer = placer;
        this.repair = repair;
        this.backup = backup;
        this.hold = hold;
        this.numReplica = numReplica;
        this.sealedBackup = backup != null && cipher != null;
    }

    /**
     * Writes pages {@code firstPage .. firstPage + count} (one slab, one request's worth) from {@code src}, and
     * tells {@code done}; held while too few copies can take it (see above).
     */
    void write(SlabEntry slab, long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
        WriteRound round = round(slab, firstPage, count, src, srcIndex, done, true);
        if (cipher == null) { // encrypted, the checksum covers the ciphertext: computed when it is made
            for (int i = 0; i < count; i++) {
                round.crcs[i] = PageChecksum.crc32c(src, srcIndex + i * FrameHeader.PAGE_SIZE);
            }
        }
        if (sealedBackup && !reserveBackup(round)) {
            return;
        }
        if (backup != null && !sealedBackup) {
            try {
                for (int i = 0; i < count; i++) {
                    round.backupSequence = backup.write(firstPage + i, src, srcIndex + i * FrameHeader.PAGE_SIZE);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                round.end(new PageIoException("interrupted queueing the backup write"));
                return;
            }
        }
        attempt(round);
    }

    /**
     * Reserves the slots of the round's sealed backup writes (blocking while the disk's queue is full), which are
     * queued under the slab's monitor where nothing may wait; false if the round ended instead.
     */
    private boolean reserveBackup(WriteRound round) {
        try {
            backup.reserve(round.count);
            round.backupReserved = round.count;
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            round.end(new PageIoException("interrupted queueing the backup write"));
        } catch (IllegalStateException e) {
            round.end(new PageIoException(e.getMessage()));
        }
        return false;
    }

    private WriteRound round(SlabEntry slab, long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done,
                             boolean mayHold) {
        WriteRound round = idle.poll();
        if (round == null) {
            round = new WriteRound();
        }
        round.start(slab, firstPage, count, src, srcIndex, done, mayHold);
        return round;
    }

    /** Sends the round to every copy, once the slab is placed (its first write places it). */
    private void attempt(WriteRound round) {
        SlabEntry slab = round.slab;
        if (slab.isMapped()) {
            send(round, null);
            return;
        }
        placer.ensureMapped(slab).whenComplete((ok, err) -> send(round, err instanceof CompletionException
                && err.getCause() != null ? err.getCause() : err));
    }

    private void send(WriteRound round, Throwable mapError) {
        // Sent again (NO_SUCH_SLAB everywhere, a held write's retry): rare, so waiting here for the disk's queue is
        // acceptable even on a transport's thread.
        if (sealedBackup && round.backupReserved == 0 && !reserveBackup(round)) {
            return;
        }
        SlabEntry slab = round.slab;
        Throwable tooFew = null;
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
                tooFew = mapError != null ? mapError : new WaitForDonorsException("pages " + round.firstPage + ".."
                        + (round.firstPage + round.count - 1) + " of slab " + slab.id() + ": " + targets.size()
                        + " of " + numReplica + " copies can be written " + slab);
            } else {
                if (cipher != null) {
                    round.seal();
                }
                for (int i = 0; i < round.count; i++) {
                    round.versions[i] = map.nextVersion(round.firstPage + i, round.crcs[i]);
                }
                tooFew = sealedBackup ? round.queueSealed() : null;
                if (tooFew == null) {
                    round.targets = targets;
                    round.replicas = slab.replicas();
                    round.gate = slab.enterWrite();
                }
            }
        }
        if (tooFew != null) {
            round.end(tooFew);
            return;
        }
        round.mapError = mapError;
        List<RemoteDonor> targets = round.targets;
        int n = targets.size();
        round.sending(n);
        for (int i = 0; i < n; i++) {
            RemoteDonor donor = targets.get(i);
            Target target = round.target(i, donor, round.replicas.contains(donor));
            DonorConnection c = donor.connection();
            if (c == null) {
                target.written(new DonorUnavailableException(donor + ": not connected"));
            } else {
                c.writePages(slab.id(), round.count, round, target);
            }
        }
        round.answered(null, false, null);
    }

    /** One target copy of a round: what its donor's answer is counted as. */
    private static final class Target implements DonorConnection.WriteAnswer {
        private final WriteRound round;
        private RemoteDonor donor;
        private boolean fullCopy;

        Target(WriteRound round) {
            this.round = round;
        }

        @Override
        public void written(Throwable error) {
            round.answered(donor, fullCopy, error);
        }
    }

    /**
     * One write of a run of pages to every target copy: the pages it encodes (the same for every target), the
     * answers it counts, and who is told, in one object. It ends when the last target has answered (see the
     * acknowledgement rule above), then goes back to the pool: a write allocates nothing in steady state.
     */
    private final class WriteRound implements DonorConnection.PageSource {
        private SlabEntry slab;
        private long firstPage;
        private int count;
        private int[] crcs = new int[0];
        private long[] versions = new long[0];
        private Target[] answers = new Target[0];
        /** Encrypted: the pages' ciphertext and their tags, made once per sending (grown, never shrunk). */
        private ByteBuf sealed = Unpooled.EMPTY_BUFFER;
        private ByteBuf tags = Unpooled.EMPTY_BUFFER;
        private ByteBuf src;
        private int srcIndex;
        private long backupSequence;
        /** Slots of the backup disk reserved for this round's sealed pages and not used yet. */
        private int backupReserved;
        private Throwable mapError;
        private boolean mayRetry;
        /** A request's first attempt: if donors are missing it goes to the hold; a held retry does not. */
        private boolean mayHold;
        private PageIoDone done;
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

        void start(SlabEntry slab, long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done,
                   boolean mayHold) {
            this.slab = slab;
            this.firstPage = firstPage;
            this.count = count;
            if (crcs.length < count) {
                crcs = new int[count];
                versions = new long[count];
            }
            this.src = src;
            this.srcIndex = srcIndex;
            this.done = done;
            this.mayHold = mayHold;
            this.mayRetry = true;
            this.backupSequence = -1;
        }

        /** Before sending to {@code n} targets: the answers to count. */
        void sending(int n) {
            if (answers.length < n) {
                Target[] more = Arrays.copyOf(answers, n);
                for (int i = answers.length; i < n; i++) {
                    more[i] = new Target(this);
                }
                answers = more;
            }
            synchronized (this) {
                remaining = n + 1;
                stored = 0;
                storedFilling = 0;
                otherFailures = 0;
                unreachable = 0;
            }
        }

        Target target(int i, RemoteDonor donor, boolean fullCopy) {
            Target t = answers[i];
            t.donor = donor;
            t.fullCopy = fullCopy;
            return t;
        }

        /**
         * Encrypts the pages under the versions they are about to get, and takes the ciphertext's checksums. Caller
         * holds the slab's monitor (so the versions are the ones {@link SlabMap#nextVersion} then gives).
         */
        void seal() {
            if (sealed.capacity() < count * FrameHeader.PAGE_SIZE) {
                sealed.release();
                tags.release();
                sealed = Unpooled.directBuffer(count * FrameHeader.PAGE_SIZE);
                tags = Unpooled.directBuffer(count * PageCipher.TAG_BYTES);
            }
            long firstInSlab = firstPage - slab.firstPage();
            for (int i = 0; i < count; i++) {
                int at = i * FrameHeader.PAGE_SIZE;
                cipher.encrypt(slab.id(), firstInSlab + i, map.upcomingVersion(firstPage + i), src, srcIndex + at,
                        sealed, at, tags, i * PageCipher.TAG_BYTES);
                crcs[i] = PageChecksum.crc32c(sealed, at);
            }
        }

        /**
         * Queues the sealed pages to the backup disk with their versions, in the slots reserved; null, or the error
         * the round ends with if the disk is closed. Caller holds the slab's monitor.
         */
        PageIoException queueSealed() {
            try {
                for (int i = 0; i < count; i++) {
                    backupReserved = count - i - 1; // writeSealed uses up a reserved slot, even when it throws
                    backupSequence = backup.writeSealed(firstPage + i, versions[i], sealed, i * FrameHeader.PAGE_SIZE,
                            tags, i * PageCipher.TAG_BYTES);
                }
                return null;
            } catch (IllegalStateException e) {
                return new PageIoException(e.getMessage());
            }
        }

        @Override
        public void addPagesTo(PageBatchEncoder encoder) {
            long firstInSlab = firstPage - slab.firstPage();
            if (cipher != null) {
                for (int i = 0; i < count; i++) {
                    encoder.add(firstInSlab + i, versions[i], crcs[i], tags, i * PageCipher.TAG_BYTES, sealed,
                            i * FrameHeader.PAGE_SIZE);
                }
                return;
            }
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
                end(null);
                return;
            }
            if (stored == 0 && mayRetry && !targets.isEmpty() && otherFailures == 0 && unreachable == 0) {
                // Every copy was gone (NO_SUCH_SLAB): a donor under memory pressure freed the slab before its first
                // page arrived. The copies are dropped by now, so the slab is placed afresh; once.
                mayRetry = false;
                attempt(this);
                return;
            }
            repair.enqueue(slab); // short of copies: re-replication brings back or makes the missing ones
            if (backup != null && backupSequence >= 0) {
                backup.whenWritten(backupSequence).whenComplete((ok, err) -> {
                    if (err == null) {
                        end(null);
                    } else {
                        // Too few copies and not the disk either: wait for donors (held), as without a disk.
                        slab.markWanted();
                        end(new WaitForDonorsException(tooFewStored() + ", and the backup disk failed: "
                                + rootMessage(err)));
                    }
                });
            } else if (stored + storedFilling > 0 || unreachable > 0) {
                slab.markWanted();
                end(new WaitForDonorsException(tooFewStored()));
            } else {
                end(new PageIoException(tooFewStored()));
            }
        }

        /**
         * The round is over: back to the pool, then its caller is told. Wanting donors on a first attempt, the
         * request goes to the hold instead, which tries it again in fresh rounds (new versions each time).
         */
        void end(Throwable error) {
            PageIoDone d = done;
            Supplier<CompletableFuture<Void>> retry = null;
            if (mayHold && error instanceof WaitForDonorsException) {
                retry = retry(slab, firstPage, count, Arrays.copyOf(crcs, count), src, srcIndex, backupSequence);
            }
            if (backupReserved > 0) {
                backup.unreserve(backupReserved);
                backupReserved = 0;
            }
            slab = null;
            src = null;
            done = null;
            targets = null;
            replicas = null;
            gate = null;
            mapError = null;
            idle.offer(this);
            if (retry != null) {
                hold.hold(retry, error, d);
            } else {
                d.pageIoDone(error);
            }
        }

        private String tooFewStored() {
            return "pages " + firstPage + ".." + (firstPage + count - 1) + " of slab " + slab.id() + ": stored on "
                    + (stored + storedFilling) + " of " + numReplica + " copies" + (unreachable > 0 ? ", "
                    + unreachable + " of " + replicas.size() + " copies did not answer in time" : "")
                    + (mapError != null ? " (" + rootMessage(mapError) + ")" : "");
        }
    }

    /** A held write's next attempt: a fresh round with the same pages and checksums, and new versions. */
    private Supplier<CompletableFuture<Void>> retry(SlabEntry slab, long firstPage, int count, int[] crcs, ByteBuf src,
                                                    int srcIndex, long backupSequence) {
        return () -> {
            PageIoFuture attempt = new PageIoFuture();
            WriteRound round = round(slab, firstPage, count, src, srcIndex, attempt, false);
            System.arraycopy(crcs, 0, round.crcs, 0, count);
            round.backupSequence = backupSequence;
            attempt(round);
            return attempt;
        };
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
