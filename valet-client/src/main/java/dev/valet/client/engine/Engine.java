package dev.valet.client.engine;

import dev.valet.client.engine.backup.BackupDisk;
import dev.valet.client.engine.donors.DonorPool;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.engine.placement.DonorRanker;
import dev.valet.client.engine.placement.PlacementPolicy;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.WireCounters;
import dev.valet.client.transport.Transports;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.crypto.PageCipher;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The client engine: a swap space of {@code swapSpace} bytes whose pages live, replicated, on donors. Front ends
 * (the kernel channel, the demo, the benchmark) call {@link #write} and {@link #read} with runs of pages; the
 * engine maps each slab at its first write ({@link SlabPlacer}), writes every copy ({@link ReplicaWriter}), reads
 * the best copy that returns the last written version ({@link ReplicaReader}), notices dead donors
 * ({@link DonorPool}) and restores lost copies ({@link ReReplicator}), with an optional backup disk under it all.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final int BACKUP_QUEUE_PAGES = 4096;

    private final ClientConfig config;
    private final SlabMap map;
    private final DonorTransport transport;
    private final DonorPool pool;
    private final SlabPlacer placer;
    private final ReReplicator repair;
    private final SlabMigrator migrator;
    private final BackupDisk backup;
    private final ExecutorService backupReads;
    private final ScheduledExecutorService holdTimer;
    private final RequestHold hold;
    private final ReplicaWriter writer;
    private final ReplicaReader reader;
    /** Null when pages leave in clear. */
    private final PageCipher cipher;
    private final int pagesPerRequest;
    private final AtomicLong pagesWritten = new AtomicLong();
    private final AtomicLong pagesRead = new AtomicLong();

    private Engine(ClientConfig config, List<DonorAddress> donors, BackupDisk backup) {
        this.config = config;
        this.map = new SlabMap(config.swapSpace().bytes(), config.slabSize().bytes());
        this.pagesPerRequest = config.maxPagesPerFrame();
        this.transport = Transports.open(config);
        PlacementPolicy<RemoteDonor> policy = new DonorRanker<>(config.placement().serverSelectNum(),
                config.placement().weights(), new Random());
        this.pool = new DonorPool(donors, config, transport, new DonorEvents());
        int numReplica = config.placement().numReplica();
        this.placer = new SlabPlacer(map, pool, policy, numReplica);
        this.repair = new ReReplicator(map, placer, pool, policy, numReplica,
                config.failover().reReplicationRate().bytes(), pagesPerRequest, backup);
        this.placer.onDegraded(this::queueDegraded);
        this.placer.onPlacedBehind(repair::enqueue);
        this.backup = backup;
        this.migrator = new SlabMigrator(map, repair, backup, config.failover().migrationRate().bytes());
        this.backupReads = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "valet-backup-reader");
            t.setDaemon(true);
            return t;
        });
        this.holdTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "valet-request-hold");
            t.setDaemon(true);
            return t;
        });
        this.hold = new RequestHold(config.device().holdTimeout(), holdTimer);
        this.cipher = config.encryption().loadKey(config.auth(), config.identity())
                .map(key -> new PageCipher(key, map.pagesPerSlab(), config.identity())).orElse(null);
        this.writer = new ReplicaWriter(map, placer, repair, backup, hold, numReplica, cipher);
        this.reader = new ReplicaReader(map, repair, backup, backupReads, hold, cipher);
    }

    /** Opens the backup disk (if configured), connects to the donors and starts the health and repair threads. */
    public static Engine start(ClientConfig config, List<DonorAddress> donors) throws IOException {
        BackupDisk backup = null;
        if (config.backupDiskPath().isPresent()) {
            Path path = config.backupDiskPath().get();
            boolean sealed = config.encryption().enabled();
            backup = BackupDisk.open(path, config.swapSpace().bytes(), BACKUP_QUEUE_PAGES, sealed);
            LOG.info("backup disk {}: every write also goes there{}", path, sealed
                    ? ", encrypted as the donors get it" : "");
        }
        Engine engine = new Engine(config, donors, backup);
        engine.pool.start();
        try {
            // Serving before numReplica copies can be placed would fail (or hold) the very first write.
            engine.pool.awaitLive(config.placement().numReplica(), config.failover().readyTimeout());
            // A restarted client recovers from what every donor holds: a slow one may hold the only current copy.
            engine.pool.awaitAnswered(config.failover().readyTimeout());
        } catch (IOException e) {
            engine.close();
            throw e;
        } catch (InterruptedException e) {
            engine.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for donors", e);
        }
        // A restarted client finds its pages where it left them (the slab ids are its own).
        new SlabRecovery(engine.map, engine.pool, engine.repair, config.placement().numReplica()).recover();
        if (engine.cipher != null) {
            engine.startVersionsAboveEarlierRuns();
        } else {
            LOG.info("encryption: off: pages leave this machine in clear (encryption.mode, docs/security.md)");
        }
        engine.repair.start();
        LOG.info("engine: swap space {} in {} slabs of {}, {} copies each, {} donors", config.swapSpace(),
                engine.map.slabCount(), config.slabSize(), config.placement().numReplica(), donors.size());
        return engine;
    }

    /**
     * No version an earlier run may have encrypted under (and lost unacknowledged) is given again: new versions
     * start above the clock's floor, after waiting (up to {@link NonceVersions#MAX_WAIT_MILLIS}) for a clock that
     * is behind what recovery found (see {@link NonceVersions}).
     */
    private void startVersionsAboveEarlierRuns() throws IOException {
        long highest = map.highestVersion();
        long lag = NonceVersions.lagMillis(System.currentTimeMillis(), highest);
        if (lag > 0 && lag <= NonceVersions.MAX_WAIT_MILLIS) {
            LOG.info("encryption: the clock is {} ms behind the versions on the donors; waiting for it", lag);
            try {
                Thread.sleep(lag + 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IOException("interrupted waiting for the clock to pass the recovered versions", e);
            }
        } else if (lag > 0) {
            LOG.warn("encryption: the clock is {} s behind the versions on the donors (was it set back?): new"
                    + " versions start {} above the highest found; nonces stay unique across the next crash only"
                    + " if a page this run writes survives it. Fix the clock (docs/security.md)", lag / 1000,
                    1L << NonceVersions.GAP_BITS);
        }
        map.raiseVersionFloor(NonceVersions.floor(System.currentTimeMillis(), highest));
        LOG.info("encryption: aes-256-gcm, key from {}; new versions start above {}", cipher.key().source(),
                map.versionFloor());
    }

    public long pageCount() {
        return map.pageCount();
    }

    public int pagesPerRequest() {
        return pagesPerRequest;
    }

    /**
     * Writes pages {@code firstPage .. firstPage + count} from {@code src} (4096 bytes each, from {@code srcIndex})
     * and tells {@code done}: with null once every copy still standing stored them (see {@link ReplicaWriter}), with
     * a {@link PageIoException} if none did. {@code src} must stay unchanged until then. The I/O path's entry: it
     * allocates nothing per request while the slabs it writes are placed and their donors answer.
     *
     * @throws IllegalArgumentException if the pages are outside the swap space (and {@code done} is not told)
     */
    public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
        forEachRun(firstPage, count, srcIndex, done, src, true);
    }

    /**
     * Reads pages {@code firstPage .. firstPage + count} into {@code dst} and tells {@code done}: with null once
     * each page holds the data last written to it (zeros for a page never written), else with a
     * {@link PageIoException}. Allocates nothing per request, as {@link #write(long, int, ByteBuf, int, PageIoDone)}.
     */
    public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
        forEachRun(firstPage, count, dstIndex, done, dst, false);
    }

    /** {@link #write(long, int, ByteBuf, int, PageIoDone)} with a future, for callers off the I/O path. */
    public CompletableFuture<Void> write(long firstPage, int count, ByteBuf src, int srcIndex) {
        PageIoFuture done = new PageIoFuture();
        write(firstPage, count, src, srcIndex, done);
        return done;
    }

    /** {@link #read(long, int, ByteBuf, int, PageIoDone)} with a future, for callers off the I/O path. */
    public CompletableFuture<Void> read(long firstPage, int count, ByteBuf dst, int dstIndex) {
        PageIoFuture done = new PageIoFuture();
        read(firstPage, count, dst, dstIndex, done);
        return done;
    }

    /** Splits a run of pages at slab boundaries and at the request size; {@code done} is told when all parts end. */
    private void forEachRun(long firstPage, int count, int bufferIndex, PageIoDone done, ByteBuf buffer,
                            boolean write) {
        if (count < 1) {
            throw new IllegalArgumentException("count " + count);
        }
        map.checkPage(firstPage);
        map.checkPage(firstPage + count - 1);
        (write ? pagesWritten : pagesRead).addAndGet(count);
        // Almost every request is one run: only one that crosses a slab or the request size counts its parts.
        PageIoDone each = runLength(map.slabOf(firstPage), firstPage, count) == count ? done
                : new AllParts(runs(firstPage, count), done);
        long page = firstPage;
        int offset = 0;
        while (offset < count) {
            SlabEntry slab = map.slabOf(page);
            int n = runLength(slab, page, count - offset);
            int index = bufferIndex + offset * FrameHeader.PAGE_SIZE;
            if (write) {
                writer.write(slab, page, n, buffer, index, each);
            } else {
                reader.read(slab, page, n, buffer, index, each);
            }
            page += n;
            offset += n;
        }
    }

    /** How many runs pages {@code firstPage .. firstPage + count} split into. */
    private int runs(long firstPage, int count) {
        int runs = 0;
        for (long page = firstPage, end = firstPage + count; page < end; runs++) {
            page += runLength(map.slabOf(page), page, (int) (end - page));
        }
        return runs;
    }

    /** Pages of a run from {@code page} of {@code slab}: up to {@code left}, within the slab and the request size. */
    private int runLength(SlabEntry slab, long page, int left) {
        int inSlab = (int) (slab.firstPage() + slab.pageCount() - page);
        return Math.min(Math.min(left, inSlab), pagesPerRequest);
    }

    /** Tells a request's caller once all its parts ended: the first error, or null. */
    private static final class AllParts implements PageIoDone {
        private final AtomicInteger left;
        private final PageIoDone done;
        private volatile Throwable firstError;

        AllParts(int parts, PageIoDone done) {
            this.left = new AtomicInteger(parts);
            this.done = done;
        }

        @Override
        public void pageIoDone(Throwable error) {
            if (error != null && firstError == null) {
                firstError = error;
            }
            if (left.decrementAndGet() == 0) {
                done.pageIoDone(firstError);
            }
        }
    }

    /** The event loops of the donors' TCP connections (null over RDMA alone): see {@link DonorTransport#eventLoops}. */
    public io.netty.channel.EventLoopGroup eventLoops() {
        return transport.eventLoops();
    }

    /** What the transport put on the wire so far (frames and flushes; see {@link WireCounters}). */
    public WireCounters wire() {
        return transport.wire();
    }

    /** Pages front ends asked to write so far (swap-outs, page by page). */
    public long pagesWritten() {
        return pagesWritten.get();
    }

    /** Pages front ends asked to read so far (swap-ins). */
    public long pagesRead() {
        return pagesRead.get();
    }

    /** How many copies each slab should have ({@code placement.numReplica}). */
    public int replicasWanted() {
        return config.placement().numReplica();
    }

    /** Slabs waiting for re-replication or migration now. */
    public int repairQueued() {
        return repair.queued();
    }

    public EngineStats stats() {
        int mapped = 0;
        int degraded = 0;
        int withoutCopy = 0;
        int numReplica = config.placement().numReplica();
        for (SlabEntry s : map.touched()) {
            int copies = s.replicas().size();
            if (copies > 0) {
                mapped++;
                if (copies < numReplica) {
                    degraded++;
                }
            } else if (map.anyWritten(s, 0, s.pageCount())) {
                withoutCopy++;
            }
        }
        int suspected = 0;
        for (RemoteDonor d : pool.all()) {
            if (d.state() == RemoteDonor.State.SUSPECTED) {
                suspected++;
            }
        }
        return new EngineStats(pool.live().size(), pool.all().size(), mapped, degraded, withoutCopy,
                repair.slabsRepaired(), repair.pagesCopied(), migrator.slabsMigrated(),
                migrator.evictionsDeclined(), suspected, hold.heldRequests(), hold.heldMaxMillis(),
                hold.heldFailed());
    }

    /**
     * Waits until every mapped slab has all its copies, reporting the stats every {@code every}; false on timeout.
     */
    public boolean awaitFullyReplicated(Duration timeout, Duration every, Consumer<EngineStats> progress)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            EngineStats s = stats();
            progress.accept(s);
            if (s.fullyReplicated()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(every.toMillis());
        }
    }

    /** Slabs with a copy on the donor at {@code address}, or a copy being made there. */
    public long slabsHeldBy(DonorAddress address) {
        return map.touched().stream()
                .filter(s -> pool.all().stream().anyMatch(d -> d.address().equals(address) && s.isHeldBy(d)))
                .count();
    }

    /** The slab map (for status and tests). */
    public SlabMap slabMap() {
        return map;
    }

    /** The donors (for status and tests). */
    public List<RemoteDonor> donors() {
        return pool.all();
    }

    /** Declares a donor dead now (as a missed heartbeat would), e.g. for an operator's drain. */
    public void markDead(RemoteDonor donor, String why) {
        pool.lost(donor, why);
    }

    private void queueDegraded() {
        for (SlabEntry s : map.touched()) {
            if (s.isMapped()) {
                repair.enqueue(s);
            }
        }
    }

    /** Queues for repair every touched slab for which {@code change} (applied to each) says true; how many. */
    private int queueWhere(java.util.function.Predicate<SlabEntry> change) {
        int n = 0;
        for (SlabEntry s : map.touched()) {
            if (change.test(s)) {
                n++;
                repair.enqueue(s);
            }
        }
        return n;
    }

    /** What donor suspicions, deaths and returns mean for slabs. */
    private final class DonorEvents implements DonorPool.Listener {
        @Override
        public void donorSuspected(RemoteDonor donor, String why) {
            int affected = queueWhere(s -> s.suspend(donor));
            if (affected > 0) {
                LOG.warn("donor {} held copies of {} slabs: kept but suspended; re-replicating where another donor"
                        + " can take a copy", donor, affected);
            }
        }

        @Override
        public void donorReturned(RemoteDonor donor) {
            queueWhere(s -> repair.reattach(s, donor));
        }

        @Override
        public void donorLost(RemoteDonor donor, String why) {
            int affected = queueWhere(s -> s.drop(donor));
            if (affected > 0) {
                LOG.warn("donor {} held copies of {} slabs: re-replicating them", donor, affected);
            }
        }

        @Override
        public CompletableFuture<Void> beforeAdmit(RemoteDonor donor, DonorConnection connection) {
            // Whatever it still holds of ours missed writes while it was gone: free it all before it takes new slabs.
            List<CompletableFuture<Void>> frees = new ArrayList<>();
            for (Long slabId : donor.placedSlabs()) {
                frees.add(connection.freeSlab(slabId).exceptionally(e -> null));
            }
            donor.placedSlabs().clear();
            return CompletableFuture.allOf(frees.toArray(CompletableFuture[]::new));
        }

        @Override
        public CompletableFuture<EvictReply> evict(RemoteDonor donor, long slabId, long deadlineMillis) {
            return migrator.evict(donor, slabId, deadlineMillis);
        }
    }

    @Override
    public void close() {
        holdTimer.shutdown(); // retries already due still run, fail, and find it shut: their callers get an error
        migrator.close();
        repair.close();
        pool.close();
        transport.close();
        backupReads.shutdownNow();
        if (backup != null) {
            backup.close();
        }
    }
}
