package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Phaser;

/**
 * Brings a suspended copy up to date once its donor answers again as the same instance: the copy becomes a
 * catching-up target (new writes reach it), the writes that began before are waited for, then its pages' versions
 * (READ_INDEX) are compared with the slab map and only the pages it missed are copied from a copy that has them. The
 * donor refuses an older version over a newer one, so a write racing the copy is never undone. Then it is a full
 * copy again. A page whose last version no reachable copy holds (its write was never acknowledged) is left as it is:
 * the serving rule never returns it, and the held write that produced it sends it again.
 */
final class CopyResync {
    private static final Logger LOG = LoggerFactory.getLogger(CopyResync.class);

    private final SlabMap map;
    private final ReReplicator repair;
    private final int pagesPerRequest;

    CopyResync(SlabMap map, ReReplicator repair, int pagesPerRequest) {
        this.map = map;
        this.repair = repair;
        this.pagesPerRequest = pagesPerRequest;
    }

    /** Resyncs {@code donor}'s suspended copy of {@code slab}; false if it could not (the caller retries). */
    boolean resync(SlabEntry slab, RemoteDonor donor) throws InterruptedException {
        slab.copyLock().lockInterruptibly();
        try {
            Phaser before = slab.beginResync(donor);
            if (before == null) {
                return true;
            }
            before.arriveAndAwaitAdvance();
            try {
                long[] counts = catchUp(slab, donor);
                slab.promote(donor);
                LOG.info("slab {}: copy on {} is current again ({} pages brought up to date{}); {} copies", slab.id(),
                        donor, counts[0], counts[1] > 0 ? ", " + counts[1] + " pages whose last write no copy"
                                + " acknowledged" : "", slab.replicas().size());
                return true;
            } catch (CompletionException | IllegalStateException e) {
                slab.resyncFailed(donor);
                LOG.info("slab {}: resync of the copy on {} failed: {}; it stays suspended", slab.id(), donor,
                        ReplicaWriter.rootMessage(e));
                return false;
            }
        } finally {
            slab.copyLock().unlock();
        }
    }

    /** Copies the pages {@code donor} missed; returns {pages copied, pages no copy has}. */
    private long[] catchUp(SlabEntry slab, RemoteDonor donor) {
        DonorConnection c = donor.connection();
        if (c == null) {
            throw new IllegalStateException(donor + " is not connected");
        }
        List<RemoteDonor> all = new ArrayList<>(slab.replicas());
        all.add(donor);
        int per = Math.min(pagesPerRequest, ReReplicator.minPages(all));
        long copied = 0;
        long missing = 0;
        for (int first = 0; first < slab.pageCount(); first += per) {
            int count = Math.min(per, slab.pageCount() - first);
            if (!repair.anyWritten(slab, first, count)) {
                continue;
            }
            PageIndex held = c.readIndex(slab.id(), first, count).join();
            long[] behind = new long[count];
            long[] expected = new long[count];
            int n = 0;
            synchronized (slab) {
                for (int i = 0; i < count; i++) {
                    long page = slab.firstPage() + first + i;
                    long v = map.version(page);
                    if (v != 0 && (held.versions()[i] != v || held.crcs()[i] != map.crc(page))) {
                        behind[n] = first + i;
                        expected[n++] = v;
                    }
                }
            }
            if (n > 0) {
                int found = copyFromAnySource(slab, donor, behind, expected, n);
                copied += found;
                missing += n - found;
            }
        }
        return new long[] {copied, missing};
    }

    /**
     * Copies pages {@code indexes[0..n)} of the slab to {@code target} from the first copy that holds at least the
     * expected version of each; returns how many pages were found.
     */
    private int copyFromAnySource(SlabEntry slab, RemoteDonor target, long[] indexes, long[] expected, int n) {
        List<RemoteDonor> sources = new ArrayList<>(slab.replicas());
        for (RemoteDonor d : slab.suspended()) {
            if (d.isLive()) {
                sources.add(d);
            }
        }
        for (RemoteDonor source : sources) {
            if (source == target || source.connection() == null) {
                continue;
            }
            ReceivedPages received;
            try {
                received = source.connection().readPages(slab.id(), indexes, n).join();
            } catch (CompletionException e) {
                continue;
            }
            try (ReceivedPages r = received) {
                PageBatch pages = r.pages();
                boolean complete = true;
                for (int i = 0; i < n; i++) {
                    if (!pages.checksumValid(i) || pages.version(i) < expected[i]) {
                        complete = false;
                        break;
                    }
                }
                if (complete) {
                    if (!ReReplicator.writeCopy(slab, target, pages)) {
                        throw new IllegalStateException("writing the missed pages to " + target + " failed");
                    }
                    return n;
                }
            }
        }
        return 0;
    }
}
