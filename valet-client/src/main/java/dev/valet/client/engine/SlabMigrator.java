package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Answers a donor's EVICT: moves the slab off that donor, frees it there (FREE_SLAB: the donor's confirmation),
 * then answers EVICT_OK. One thread, one slab at a time, in the order the EVICTs came. For the evicted slab:
 * <ol>
 *   <li>A new copy on the best-ranked live donor that holds none (never the evicting one), made by
 *   {@link ReReplicator#copyTo} at {@code failover.migrationRate}: the same catching-up target, write gate and
 *   version rule that make re-replication lose nothing.</li>
 *   <li>No donor can take it but another copy stands: the evicted copy is simply dropped; re-replication restores
 *   the count when a donor has room.</li>
 *   <li>Neither, but a backup disk: once the disk is checked to hold the last version of every written page of the
 *   slab, the copy is dropped; the slab lives on the disk (reads verify it there).</li>
 *   <li>Nowhere to go: declined ({@code EVICT_NOWHERE}); the donor keeps the slab.</li>
 * </ol>
 * Dropping a copy ({@link #release}): under the slab's lock it stops being a write target, then the writes that
 * began before (and may still be on their way to it) are waited for, then it is freed. The ordering argument is in
 * docs/engine.md.
 */
final class SlabMigrator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlabMigrator.class);

    private final SlabMap map;
    private final ReReplicator repair;
    private final BackupDisk backup;
    private final long bytesPerSecond;
    private final ExecutorService worker;
    /** EVICTs being handled, by donor and slab: a repeated EVICT gets the answer of the one under way. */
    private final Map<String, CompletableFuture<EvictReply>> underWay = new ConcurrentHashMap<>();
    private final AtomicLong migrated = new AtomicLong();
    private final AtomicLong declined = new AtomicLong();

    SlabMigrator(SlabMap map, ReReplicator repair, BackupDisk backup, long bytesPerSecond) {
        this.map = map;
        this.repair = repair;
        this.backup = backup;
        this.bytesPerSecond = bytesPerSecond;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "valet-migrator");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Handles an EVICT of {@code slabId} from {@code from}, due within {@code deadlineMillis}; completes with the
     * answer to send.
     */
    CompletableFuture<EvictReply> evict(RemoteDonor from, long slabId, long deadlineMillis) {
        long t0 = System.nanoTime();
        String key = from.address() + "/" + slabId;
        CompletableFuture<EvictReply> fresh = new CompletableFuture<>();
        CompletableFuture<EvictReply> current = underWay.putIfAbsent(key, fresh);
        if (current != null) {
            return current;
        }
        LOG.info("donor {} evicts slab {}: moving it", from, slabId);
        worker.execute(() -> {
            EvictReply reply;
            try {
                reply = migrate(from, slabId);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reply = new EvictReply(slabId, ErrorCode.EVICT_FAILED);
            } catch (RuntimeException e) {
                LOG.warn("moving slab {} off {} failed: {}", slabId, from, e.toString());
                reply = new EvictReply(slabId, ErrorCode.EVICT_FAILED);
            }
            (reply.isAccepted() ? migrated : declined).incrementAndGet();
            long tookMillis = (System.nanoTime() - t0) / 1_000_000;
            if (tookMillis > deadlineMillis) {
                LOG.warn("slab {}: answering donor {}'s EVICT after {} ms, past its {} ms deadline (it kept the slab"
                        + " meanwhile); raise failover.migrationRate or the donor's headroom.evictTimeout", slabId,
                        from, tookMillis, deadlineMillis);
            }
            underWay.remove(key);
            fresh.complete(reply);
        });
        return fresh;
    }

    /** Slabs moved off an evicting donor (or dropped there) since start. */
    long slabsMigrated() {
        return migrated.get();
    }

    /** EVICTs declined since start. */
    long evictionsDeclined() {
        return declined.get();
    }

    private EvictReply migrate(RemoteDonor from, long slabId) throws InterruptedException {
        SlabEntry slab = map.slabById(slabId);
        if (slab == null) {
            LOG.warn("donor {} evicts slab {}, outside this swap space: freeing it there", from, slabId);
            return freeLeftover(from, slabId);
        }
        slab.copyLock().lockInterruptibly();
        try {
            if (!slab.isHeldBy(from)) {
                // A copy dropped earlier (or of a former life): nothing current lives there.
                LOG.info("slab {} on {} is no longer a copy: freeing it there", slabId, from);
                return freeLeftover(from, slabId);
            }
            List<RemoteDonor> excluded = new ArrayList<>(slab.replicas());
            excluded.addAll(slab.suspended());
            excluded.add(from);
            RemoteDonor target = repair.chooseTarget(slab, excluded);
            if (target != null && repair.copyTo(slab, target, bytesPerSecond)) {
                return release(slab, from, "moved to " + target);
            }
            List<RemoteDonor> others = new ArrayList<>(slab.replicas());
            others.remove(from);
            if (!others.isEmpty()) {
                EvictReply reply = release(slab, from, "no donor has room; its copies on " + others + " remain");
                repair.enqueue(slab);
                return reply;
            }
            if (backup != null) {
                return toBackupDisk(slab, from);
            }
            LOG.warn("slab {}: donor {} evicts its last copy and no donor has room, and there is no backup disk:"
                    + " declined, the donor keeps it", slabId, from);
            return new EvictReply(slabId, ErrorCode.EVICT_NOWHERE);
        } finally {
            slab.copyLock().unlock();
        }
    }

    /**
     * The last copy goes, the backup disk keeps the slab. Checked before (else declined) and after the copy stops
     * taking writes: every written page's last version must be on the disk. A write that fails on the disk in the
     * instant between the two checks gives the copy back.
     */
    private EvictReply toBackupDisk(SlabEntry slab, RemoteDonor from) throws InterruptedException {
        ByteBuf scratch = Unpooled.buffer(FrameHeader.PAGE_SIZE + PageCipher.TAG_BYTES); // a page, a sealed one's tag
        try {
            String missing = diskMissing(slab, scratch);
            if (missing != null) {
                LOG.warn("slab {}: donor {} evicts its last copy, no donor has room, and the backup disk does not"
                        + " hold it ({}): declined", slab.id(), from, missing);
                return new EvictReply(slab.id(), ErrorCode.EVICT_FAILED);
            }
            Phaser before = slab.removeCopy(from);
            before.arriveAndAwaitAdvance();
            missing = diskMissing(slab, scratch);
            if (missing != null) {
                LOG.error("slab {}: the backup disk lost a write while the copy on {} was being dropped ({}): the"
                        + " copy is kept", slab.id(), from, missing);
                List<RemoteDonor> back = new ArrayList<>(slab.replicas());
                back.add(from);
                slab.setReplicas(back);
                return new EvictReply(slab.id(), ErrorCode.EVICT_FAILED);
            }
            return confirm(slab.id(), from, "no donor has room; it lives on the backup disk now");
        } finally {
            scratch.release();
        }
    }

    /** Null if the disk holds the last version of every written page of the slab, else the first page it lacks. */
    private String diskMissing(SlabEntry slab, ByteBuf scratch) throws InterruptedException {
        for (int i = 0; i < slab.pageCount(); i++) {
            long page = slab.firstPage() + i;
            for (int attempt = 0; ; attempt++) {
                long version;
                int crc;
                synchronized (slab) {
                    version = map.version(page);
                    crc = map.crc(page);
                }
                if (version == 0) {
                    break;
                }
                boolean held;
                try {
                    held = backup.sealed() ? backup.readSealed(page, version, crc, scratch.clear(), 0, scratch,
                            FrameHeader.PAGE_SIZE) == null : backup.read(page, crc, scratch.clear(), 0);
                } catch (IOException e) {
                    return "page " + page + ": " + e.getMessage();
                }
                if (held) {
                    break;
                }
                boolean rewritten;
                synchronized (slab) {
                    rewritten = map.version(page) != version;
                }
                // A write of the page between taking its CRC and reading the disk: look again.
                if (!rewritten || attempt == 3) {
                    return "page " + page + " version " + version;
                }
            }
        }
        return null;
    }

    /** Drops {@code from}'s copy: no new write goes there, those on their way are waited for, then it is freed. */
    private EvictReply release(SlabEntry slab, RemoteDonor from, String where) {
        Phaser before = slab.removeCopy(from);
        before.arriveAndAwaitAdvance();
        return confirm(slab.id(), from, where);
    }

    /** FREE_SLAB on the evicting donor: the confirmation it waits for. */
    private EvictReply confirm(long slabId, RemoteDonor from, String where) {
        DonorConnection connection = from.connection();
        try {
            if (connection == null) {
                throw new CompletionException(new IllegalStateException("not connected"));
            }
            connection.freeSlab(slabId).join();
            from.placedSlabs().remove(slabId);
        } catch (CompletionException e) {
            // Not a copy any more either way; the donor frees what it still holds when it is re-admitted.
            LOG.warn("slab {}: freeing the evicted copy on {} failed: {}", slabId, from, ReplicaWriter.rootMessage(e));
            return new EvictReply(slabId, ErrorCode.EVICT_FAILED);
        }
        LOG.info("slab {} left donor {}: {}", slabId, from, where);
        return EvictReply.accepted(slabId);
    }

    private EvictReply freeLeftover(RemoteDonor from, long slabId) {
        return confirm(slabId, from, "it held no current copy");
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
