package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageIndex;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Phaser;

/**
 * Brings a suspended copy up to date once its donor answers again as the same instance: the copy becomes a
 * catching-up target (new writes reach it), the writes that began before are waited for, then its pages' versions
 * (READ_INDEX) are compared with the slab map and only the pages it missed are copied from a copy that has them. The
 * donor refuses an older version over a newer one, so a write racing the copy is never undone. Pages no answering
 * copy has come from the backup disk, if there is one (it got every write, including those it alone acknowledged
 * while every copy was suspended). Then it is a full copy again. A page whose last version no reachable copy holds
 * (its write was never acknowledged) is left as it is: the serving rule never returns it, and the held write that
 * produced it sends it again.
 */
final class CopyResync {
    private static final Logger LOG = LoggerFactory.getLogger(CopyResync.class);

    private final SlabMap map;
    private final ReReplicator repair;
    private final int pagesPerRequest;
    private final BackupDisk backup;

    /** @param backup the backup disk, a source of last resort for missed pages; null if none */
    CopyResync(SlabMap map, ReReplicator repair, int pagesPerRequest, BackupDisk backup) {
        this.map = map;
        this.repair = repair;
        this.pagesPerRequest = pagesPerRequest;
        this.backup = backup;
    }

    /** How a resync ended. */
    enum Outcome {
        /** The copy is a full copy again (or was not suspended any more). */
        CURRENT,
        /** It failed on the way (a donor did not answer): try again soon. */
        RETRY,
        /**
         * It lacks pages that only a copy on a silent donor may hold: it stays suspended until that donor answers or
         * is confirmed dead (both queue the slab again).
         */
        WAIT
    }

    /** Resyncs {@code donor}'s suspended copy of {@code slab}, or its copy attached on its return. */
    Outcome resync(SlabEntry slab, RemoteDonor donor) throws InterruptedException {
        slab.copyLock().lockInterruptibly();
        try {
            Phaser before = slab.takeAttached(donor);
            if (before == null) {
                before = slab.beginResync(donor);
            }
            if (before == null) {
                return Outcome.CURRENT;
            }
            before.arriveAndAwaitAdvance();
            Gaps gaps;
            try {
                gaps = catchUp(slab, donor);
            } catch (CompletionException | IllegalStateException e) {
                slab.copyStopped(donor);
                LOG.info("slab {}: resync of the copy on {} failed: {}; it stays suspended", slab.id(), donor,
                        ReplicaWriter.rootMessage(e));
                return Outcome.RETRY;
            }
            if (gaps.missing > 0 && (gaps.sourceFailed || slab.suspended().stream().anyMatch(d -> !d.isLive()))) {
                // Another copy, silent now, may hold those versions: promoting this one would let it be copied
                // on and that one be freed as surplus.
                slab.copyStopped(donor);
                LOG.info("slab {}: the copy on {} lacks {} pages that no answering copy holds; it stays suspended"
                        + " until the other copies answer", slab.id(), donor, gaps.missing);
                return gaps.sourceFailed ? Outcome.RETRY : Outcome.WAIT;
            }
            if (!slab.promote(donor)) {
                return Outcome.WAIT; // suspended again meanwhile: its return queues the slab again
            }
            LOG.info("slab {}: copy on {} is current again ({} pages brought up to date{}); {} copies", slab.id(),
                    donor, gaps.copied, gaps.missing > 0 ? ", " + gaps.missing + " pages whose last write no copy"
                            + " holds (never acknowledged)" : "", slab.replicas().size());
            return Outcome.CURRENT;
        } finally {
            slab.copyLock().unlock();
        }
    }

    /** What a catch-up found: pages copied, pages no answering copy holds, whether a source failed to answer. */
    private static final class Gaps {
        long copied;
        long missing;
        boolean sourceFailed;
    }

    /**
     * Copies the pages {@code donor} missed from any copy that has them. Its index is read in as few requests as
     * fit in a frame (a copy that missed nothing costs one round trip), the missed pages copied a request's worth at
     * a time.
     */
    private Gaps catchUp(SlabEntry slab, RemoteDonor donor) {
        DonorConnection c = donor.connection();
        if (c == null) {
            throw new IllegalStateException(donor + " is not connected");
        }
        List<RemoteDonor> all = new ArrayList<>(slab.replicas());
        all.add(donor);
        int per = Math.min(pagesPerRequest, ReReplicator.minPages(all));
        int perIndex = Math.max(1, PageIndex.maxPages(c.hello().maxFrameBytes()));
        Gaps gaps = new Gaps();
        for (int first = 0; first < slab.pageCount(); first += perIndex) {
            int count = Math.min(perIndex, slab.pageCount() - first);
            if (!map.anyWritten(slab, first, count)) {
                continue;
            }
            PageIndex held = c.readIndex(slab.id(), first, count).join();
            long[] behind = new long[count];
            long[] expected = new long[count];
            int[] crcs = new int[count];
            int n = 0;
            synchronized (slab) {
                for (int i = 0; i < count; i++) {
                    long page = slab.firstPage() + first + i;
                    long v = map.version(page);
                    if (v != 0 && (held.versions()[i] != v || held.crcs()[i] != map.crc(page))) {
                        behind[n] = first + i;
                        crcs[n] = map.crc(page);
                        expected[n++] = v;
                    }
                }
            }
            for (int from = 0; from < n; from += per) {
                int to = Math.min(n, from + per);
                int found = copyFromSources(slab, donor, Arrays.copyOfRange(behind, from, to),
                        Arrays.copyOfRange(expected, from, to), Arrays.copyOfRange(crcs, from, to), to - from, gaps);
                gaps.copied += found;
                gaps.missing += to - from - found;
            }
        }
        return gaps;
    }

    /**
     * Copies pages {@code indexes[0..n)} of the slab to {@code target}, each from the first copy (full, or suspended
     * on a live donor) that holds at least its expected version; returns how many were found.
     */
    private int copyFromSources(SlabEntry slab, RemoteDonor target, long[] indexes, long[] expected, int[] crcs,
                                int n, Gaps gaps) {
        List<RemoteDonor> sources = new ArrayList<>(slab.replicas());
        for (RemoteDonor d : slab.suspended()) {
            if (d.isLive()) {
                sources.add(d);
            }
        }
        boolean[] done = new boolean[n];
        int found = 0;
        for (RemoteDonor source : sources) {
            if (found == n || source == target || source.connection() == null) {
                continue;
            }
            long[] wanted = new long[n - found];
            int[] at = new int[n - found];
            int left = 0;
            for (int i = 0; i < n; i++) {
                if (!done[i]) {
                    wanted[left] = indexes[i];
                    at[left++] = i;
                }
            }
            ReceivedPages received;
            try {
                received = source.connection().readPages(slab.id(), wanted, left).join();
            } catch (CompletionException e) {
                gaps.sourceFailed |= ReplicaWriter.isUnreachable(e);
                continue;
            }
            try (ReceivedPages r = received) {
                PageBatch pages = r.pages();
                int good = 0;
                for (int j = 0; j < left; j++) {
                    if (pages.checksumValid(j) && pages.version(j) >= expected[at[j]]) {
                        good++;
                    }
                }
                if (good == left) {
                    write(ReReplicator.writeCopy(slab, target, pages), target);
                } else {
                    for (int j = 0; j < left; j++) {
                        if (pages.checksumValid(j) && pages.version(j) >= expected[at[j]]) {
                            write(ReReplicator.writeCopy(slab, target, pages, j, 1), target);
                        }
                    }
                }
                for (int j = 0; j < left; j++) {
                    if (pages.checksumValid(j) && pages.version(j) >= expected[at[j]]) {
                        done[at[j]] = true;
                        found++;
                    }
                }
            }
        }
        if (found < n && backup != null) {
            found += copyFromBackup(slab, target, indexes, expected, crcs, done);
        }
        return found;
    }

    /**
     * The backup disk has every write queued before any donor got it: the pages no copy holds (acknowledged by the
     * disk alone while every copy was suspended) are read from it, checked against their CRC32C, and written to the
     * target with their versions, in one request (page by page only if the target refuses the batch because it
     * holds a newer version of one). Returns how many it had. A sealed disk (page encryption) gives the ciphertext
     * and tag the donors got, taken only with the expected version; they go to the target as they are.
     */
    private int copyFromBackup(SlabEntry slab, RemoteDonor target, long[] indexes, long[] expected, int[] crcs,
                               boolean[] done) {
        ByteBuf pages = Unpooled.directBuffer(done.length * FrameHeader.PAGE_SIZE);
        ByteBuf tags = Unpooled.directBuffer(done.length * PageCipher.TAG_BYTES).writeZero(done.length
                * PageCipher.TAG_BYTES); // zeros: the tags of pages in clear
        int[] at = new int[done.length];
        int found = 0;
        try {
            for (int i = 0; i < done.length; i++) {
                long page = slab.firstPage() + indexes[i];
                int into = found * FrameHeader.PAGE_SIZE;
                if (!done[i] && (backup.sealed() ? backup.readSealed(page, expected[i], crcs[i], pages, into, tags,
                        found * PageCipher.TAG_BYTES) == null : backup.read(page, crcs[i], pages, into))) {
                    at[found++] = i;
                }
            }
            if (found == 0) {
                return 0;
            }
            int n = found;
            try {
                target.connection().writePages(slab.id(), n, e -> {
                    for (int j = 0; j < n; j++) {
                        e.add(indexes[at[j]], expected[at[j]], crcs[at[j]], tags, j * PageCipher.TAG_BYTES, pages,
                                j * FrameHeader.PAGE_SIZE);
                    }
                }).join();
            } catch (CompletionException e) {
                if (!DonorException.isRefusal(e, ErrorCode.STALE_VERSION)) {
                    throw e;
                }
                for (int j = 0; j < n; j++) {
                    writeUnlessNewer(slab, target, indexes[at[j]], expected[at[j]], crcs[at[j]], tags,
                            j * PageCipher.TAG_BYTES, pages, j * FrameHeader.PAGE_SIZE);
                }
            }
            for (int j = 0; j < n; j++) {
                done[at[j]] = true;
            }
            return n;
        } catch (IOException e) {
            LOG.warn("slab {}: reading missed pages from the backup disk failed: {}", slab.id(), e.toString());
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } finally {
            pages.release();
            tags.release();
        }
    }

    /** Writes one page to {@code target}; a refusal because it holds a newer version counts as written. */
    private static void writeUnlessNewer(SlabEntry slab, RemoteDonor target, long index, long version, int crc,
                                         ByteBuf tags, int tagIndex, ByteBuf src, int srcIndex) {
        try {
            target.connection().writePages(slab.id(), 1, e -> e.add(index, version, crc, tags, tagIndex, src,
                    srcIndex)).join();
        } catch (CompletionException e) {
            if (!DonorException.isRefusal(e, ErrorCode.STALE_VERSION)) {
                throw e;
            }
        }
    }

    private static void write(boolean ok, RemoteDonor target) {
        if (!ok) {
            throw new IllegalStateException("writing the missed pages to " + target + " failed");
        }
    }
}
