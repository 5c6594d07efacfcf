package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;

/**
 * Reads a run of pages of one slab from the best copy, falling over to the next on error, timeout, a wrong version
 * or a bad checksum, then to the suspended copies (their answer is checked like any other), then to the backup
 * disk, else failing. A copy is accepted only if every page comes back with exactly the version and CRC32C of its
 * last write (version 0 and zeros for a page never written). A full copy that returns anything else is stale or
 * corrupt and is dropped from the slab (a copy that missed writes because it answered late was suspended when it
 * did, so a full copy is never merely behind); one that does not answer in time is suspended (re-replication
 * brings it up to date once its donor answers). When no copy answered and some may still (a late or suspected
 * donor), and there is no backup disk, the read is held ({@link RequestHold}) and tried again as donors come back.
 *
 * <p>With page encryption each page of an accepted answer is also authenticated (AES-GCM) as it is decrypted into
 * the caller's buffer. A copy whose page fails is treated like one with a bad checksum, with one difference: it is
 * dropped only once another copy has authenticated, because when no copy does, the likelier cause is this client's
 * key (another {@code encryption.keyFile} than the pages were written with), and dropping every copy would destroy
 * pages a restart with the right key can read. The read then fails naming authentication. A page from the backup
 * disk (which holds the donors' ciphertext, version and tag) is taken only with the expected version and CRC32C,
 * then authenticated and decrypted the same way; one that fails authentication fails the read.
 */
final class ReplicaReader {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaReader.class);
    private static final Comparator<RemoteDonor> FASTEST_FIRST = Comparator.comparingLong(RemoteDonor::latencyNanos);
    /** Read attempts kept for reuse. */
    private static final int IDLE_ATTEMPTS = 1024;

    private final SlabMap map;
    private final ReReplicator repair;
    private final BackupDisk backup;
    private final Executor backupReads;
    private final RequestHold hold;
    /** Null when pages are stored in clear. */
    private final PageCipher cipher;
    private final Queue<Attempt> idle = PlatformDependent.newFixedMpmcQueue(IDLE_ATTEMPTS);
    /** A sealed page and its tag read from the backup disk; used only on its one reader thread. */
    private final ByteBuf backupPage;
    private final ByteBuf backupTag;

    ReplicaReader(SlabMap map, ReReplicator repair, BackupDisk backup, Executor backupReads, RequestHold hold,
                  PageCipher cipher) {
        this.map = map;
        this.cipher = cipher;
        this.repair = repair;
        this.backup = backup;
        this.backupReads = backupReads;
        this.hold = hold;
        boolean sealed = backup != null && backup.sealed();
        this.backupPage = sealed ? Unpooled.directBuffer(FrameHeader.PAGE_SIZE) : Unpooled.EMPTY_BUFFER;
        this.backupTag = sealed ? Unpooled.directBuffer(PageCipher.TAG_BYTES) : Unpooled.EMPTY_BUFFER;
    }

    /** Reads pages {@code firstPage .. firstPage + count} (one slab) into {@code dst} and tells {@code done}. */
    void read(SlabEntry slab, long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        attempt(slab, firstPage, count, dst, dstIndex, done, true);
    }

    private void attempt(SlabEntry slab, long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done,
                         boolean mayHold) {
        Attempt attempt = idle.poll();
        if (attempt == null) {
            attempt = new Attempt();
        }
        attempt.start(slab, firstPage, count, dst, dstIndex, done, mayHold);
        boolean anyWritten = false;
        List<RemoteDonor> candidates = attempt.candidates;
        List<RemoteDonor> suspended;
        RemoteDonor filling;
        synchronized (slab) {
            for (int i = 0; i < count; i++) {
                attempt.versions[i] = map.version(firstPage + i);
                attempt.crcs[i] = map.crc(firstPage + i);
                attempt.indexes[i] = firstPage - slab.firstPage() + i;
                anyWritten |= attempt.versions[i] != 0;
            }
            List<RemoteDonor> replicas = slab.replicas();
            for (int i = 0; i < replicas.size(); i++) {
                candidates.add(replicas.get(i));
            }
            suspended = slab.suspended();
            filling = slab.catchingUp();
            attempt.mayComeBack = slab.hasCopyComingBack();
        }
        if (!anyWritten) {
            // Never written: a block device reads zeros there, and so do we, without asking anyone.
            dst.setZero(dstIndex, count * FrameHeader.PAGE_SIZE);
            attempt.end(null);
            return;
        }
        candidates.sort(FASTEST_FIRST);
        attempt.fullCopies = candidates.size();
        // Last resort, versions checked: suspended copies, then the copy being filled (it may hold the pages).
        for (int i = 0; i < suspended.size(); i++) {
            addIfAnswering(candidates, suspended.get(i));
        }
        if (filling != null) {
            addIfAnswering(candidates, filling);
        }
        attempt.next(0);
    }

    private static void addIfAnswering(List<RemoteDonor> candidates, RemoteDonor d) {
        if (d.isLive() && d.connection() != null && d.connection().isOpen()) {
            candidates.add(d);
        }
    }

    /**
     * One attempt to read a run of pages: what the pages must be, the copies to ask in turn, and the answer of
     * each, in one object, reused attempt after attempt: a read allocates nothing in steady state.
     */
    private final class Attempt implements DonorConnection.ReadAnswer {
        private final List<RemoteDonor> candidates = new ArrayList<>();
        /** Full copies whose answer failed authentication: dropped only if another copy authenticates. */
        private final List<RemoteDonor> unauthenticated = new ArrayList<>();
        private String authProblem;
        private SlabEntry slab;
        private long firstPage;
        private int count;
        private long[] versions = new long[0];
        private int[] crcs = new int[0];
        private long[] indexes = new long[0];
        private ByteBuf dst;
        private int dstIndex;
        private PageIoDone done;
        private boolean mayHold;
        private int fullCopies;
        /** The candidate being asked. */
        private int k;
        /** Some copy may still answer with the data: a late one, a suspended one, or one being resynced. */
        private boolean mayComeBack;

        void start(SlabEntry slab, long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done,
                   boolean mayHold) {
            this.slab = slab;
            this.firstPage = firstPage;
            this.count = count;
            if (versions.length < count) {
                versions = new long[count];
                crcs = new int[count];
                indexes = new long[count];
            }
            this.dst = dst;
            this.dstIndex = dstIndex;
            this.done = done;
            this.mayHold = mayHold;
        }

        void next(int k) {
            if (k == candidates.size()) {
                fromBackup();
                return;
            }
            this.k = k;
            DonorConnection c = candidates.get(k).connection();
            if (c == null) {
                pagesRead(null, new DonorUnavailableException(candidates.get(k) + ": not connected"));
                return;
            }
            c.readPages(slab.id(), indexes, count, this);
        }

        /** The answer of candidate {@code k}. */
        @Override
        public void pagesRead(PageBatch pages, Throwable err) {
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
            String problem = verify(pages);
            if (problem == null && cipher != null) {
                problem = decrypt(pages);
                if (problem != null) {
                    authProblem = problem;
                    if (fullCopy) {
                        unauthenticated.add(donor);
                    }
                    LOG.warn("donor {} slab {}: {}; trying the next copy", donor, slab.id(), problem);
                    next(k + 1);
                    return;
                }
                for (int i = 0; i < unauthenticated.size(); i++) {
                    repair.copyFailed(slab, unauthenticated.get(i), "pages failed authentication (AES-GCM) where"
                            + " another copy's passed");
                }
                end(null);
            } else if (problem == null) {
                for (int i = 0; i < count; i++) {
                    PageBytes.copy(pages.buffer(), pages.dataIndex(i), dst, dstIndex + i * FrameHeader.PAGE_SIZE);
                }
                end(null);
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

        /**
         * Authenticates and decrypts every page into the caller's buffer; null when all pass, else what failed (the
         * buffer then holds garbage for this run, overwritten by the next copy or never returned).
         */
        private String decrypt(PageBatch pages) {
            long firstInSlab = firstPage - slab.firstPage();
            for (int i = 0; i < count; i++) {
                int at = dstIndex + i * FrameHeader.PAGE_SIZE;
                if (versions[i] == 0) {
                    dst.setZero(at, FrameHeader.PAGE_SIZE);
                } else if (!cipher.decrypt(slab.id(), firstInSlab + i, versions[i], pages.buffer(),
                        pages.dataIndex(i), pages.buffer(), pages.tagIndex(i), dst, at)) {
                    return "page " + (firstPage + i) + " version " + versions[i] + " fails authentication (AES-GCM"
                            + " tag): altered, or written under another key than " + cipher.key().source();
                }
            }
            return null;
        }

        private void fromBackup() {
            if (authProblem != null) {
                fail("no copy authenticates: " + authProblem);
                return;
            }
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
                        } else if (backup.sealed()) {
                            String problem = fromSealedBackup(i, at);
                            if (problem != null) {
                                fail("page " + (firstPage + i) + ": no copy holds version " + versions[i] + ", and "
                                        + problem);
                                return;
                            }
                        } else if (!backup.read(firstPage + i, crcs[i], dst, at)) {
                            fail("page " + (firstPage + i) + ": no copy holds version " + versions[i]
                                    + " and the backup disk does not either");
                            return;
                        }
                    }
                    end(null);
                } catch (IOException | RuntimeException e) {
                    fail("backup disk read failed: " + e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    end(new PageIoException("interrupted reading the backup disk"));
                }
            });
        }

        /**
         * Page {@code i} from a sealed backup disk, authenticated and decrypted into {@code dst[at ..]}; null, or
         * what is wrong with it.
         */
        private String fromSealedBackup(int i, int at) throws IOException, InterruptedException {
            String problem = backup.readSealed(firstPage + i, versions[i], crcs[i], backupPage, 0, backupTag, 0);
            if (problem != null) {
                return "the backup disk " + problem;
            }
            if (!cipher.decrypt(slab.id(), firstPage - slab.firstPage() + i, versions[i], backupPage, 0, backupTag,
                    0, dst, at)) {
                return "on the backup disk it fails authentication (AES-GCM tag): altered, or written under another"
                        + " key than " + cipher.key().source();
            }
            return null;
        }

        /**
         * Nothing served the read: it waits (held) while a copy may still answer with the data (late, suspended or
         * being resynced: the disk may have missed a write while it was full or failing), else it fails.
         */
        private void fail(String why) {
            String what = "pages " + firstPage + ".." + (firstPage + count - 1) + " of slab " + slab.id() + ": ";
            if (mayComeBack) {
                slab.markWanted();
                end(new WaitForDonorsException(what + "no copy answered with them ("
                        + (slab.replicas().isEmpty() ? "every copy is on a suspected donor " + slab.suspended()
                        : "copies late or suspended: " + candidates) + "); " + why));
            } else {
                end(new PageIoException(what + why));
            }
        }

        /**
         * The attempt is over: back to the pool, then its caller is told. Wanting donors on a request's first
         * attempt, the read goes to the hold instead, which tries it again in fresh attempts.
         */
        private void end(Throwable error) {
            PageIoDone d = done;
            SlabEntry s = slab;
            long first = firstPage;
            int n = count;
            ByteBuf into = dst;
            int at = dstIndex;
            boolean held = mayHold && error instanceof WaitForDonorsException;
            candidates.clear();
            unauthenticated.clear();
            authProblem = null;
            slab = null;
            dst = null;
            done = null;
            idle.offer(this);
            if (held) {
                hold.hold(() -> {
                    PageIoFuture again = new PageIoFuture();
                    attempt(s, first, n, into, at, again, false);
                    return again;
                }, error, d);
            } else {
                d.pageIoDone(error);
            }
        }
    }
}
