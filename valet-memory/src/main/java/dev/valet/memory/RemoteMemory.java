package dev.valet.memory;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.EngineStats;
import dev.valet.client.kernel.PageStore;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigException;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.portal.PortalList;
import dev.valet.common.portal.PortalListException;
import dev.valet.memory.alloc.Allocator;
import dev.valet.memory.alloc.Placement;
import dev.valet.memory.pages.PageSpace;
import dev.valet.memory.pages.Span;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remote memory for a Java program: regions allocated, read, written and freed on donors, without swapping. It runs
 * the client engine in this process over the donors of valet.yaml's portal.list (its identity, secret, transport,
 * copies per slab, timeouts): every page is replicated, checksummed, repaired and moved off donors that evict it
 * exactly as the swap device's pages are. No kernel module is involved.
 *
 * <pre>{@code
 * try (RemoteMemory memory = RemoteMemory.connect(Path.of("valet.yaml"))) {
 *     Region r = memory.allocate(512 * 1024);
 *     r.write(0, ByteBuffer.wrap(data));
 *     ByteBuffer back = ByteBuffer.allocateDirect(data.length);
 *     r.read(0, back);
 *     r.free();
 * }
 * }</pre>
 *
 * <p>The regions live in the engine's page space ({@code swapSpace} bytes): a region of up to 2048 bytes takes a slot
 * of its size class (64 to 2048 bytes, many to a page), a larger one a run of whole pages that may span slabs
 * (docs/memory-api.md). A new region reads as zeros. Thread-safe. One program per identity: two running at once
 * under one identity would overwrite each other's pages. Regions do not outlive {@link #close()}.
 */
public final class RemoteMemory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteMemory.class);

    private final Engine engine;
    private final Allocator allocator;
    private final PageSpace space;
    private final ExecutorService async;
    private final AtomicLong ids = new AtomicLong();
    private final String identity;
    private volatile boolean closed;

    private RemoteMemory(Engine engine, String identity, MemoryOptions options) {
        this.engine = engine;
        this.identity = identity;
        this.allocator = new Allocator(engine.pageCount());
        this.space = new PageSpace(PageStore.of(engine), engine.pageCount(), options.cacheBytes());
        AtomicInteger threads = new AtomicInteger();
        this.async = Executors.newFixedThreadPool(options.asyncThreads(), r -> {
            Thread t = new Thread(r, "valet-memory-async-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** {@link #connect(Path, MemoryOptions)} with {@link MemoryOptions#DEFAULTS}. */
    public static RemoteMemory connect(Path valetYaml) throws MemoryException {
        return connect(valetYaml, MemoryOptions.DEFAULTS);
    }

    /**
     * Reads valet.yaml (and the portal.list and secret it names, relative to its folder), connects to the donors and
     * waits until {@code placement.numReplica} of them answer (up to {@code failover.readyTimeout}).
     *
     * @throws MemoryException naming the file, line and key of a bad setting, or the donors that did not answer
     */
    public static RemoteMemory connect(Path valetYaml, MemoryOptions options) throws MemoryException {
        ClientConfig config;
        List<DonorAddress> donors;
        try {
            config = ConfigLoader.load(valetYaml, ClientConfig.class);
            donors = PortalList.parse(config.portalList());
        } catch (ConfigException | PortalListException e) {
            throw new MemoryException(e.getMessage(), e);
        }
        return connect(config, donors, options);
    }

    /**
     * Connects with a configuration already loaded (by {@code ConfigLoader}) to {@code donors}.
     *
     * @throws MemoryException if too few donors answered, or the backup disk could not be opened
     */
    public static RemoteMemory connect(ClientConfig config, List<DonorAddress> donors, MemoryOptions options)
            throws MemoryException {
        Objects.requireNonNull(options, "options");
        if (donors.isEmpty()) {
            throw new MemoryException("no donors to connect to (portal.list " + config.portalList() + " is empty)");
        }
        Engine engine;
        try {
            engine = Engine.start(config, donors);
        } catch (IOException e) {
            throw new MemoryException("cannot start remote memory for " + config.identity() + " on " + donors + ": "
                    + e.getMessage(), e);
        }
        RemoteMemory memory = new RemoteMemory(engine, config.identity(), options);
        LOG.info("remote memory for {}: {} bytes on {} donors, {} copies, cache {} bytes", config.identity(),
                memory.capacity(), donors.size(), config.placement().numReplica(), options.cacheBytes());
        return memory;
    }

    /** Bytes all regions together may take: the page space ({@code swapSpace}). */
    public long capacity() {
        return space.pageCount() * PageSpace.PAGE;
    }

    /**
     * A new region of {@code bytes} bytes, all zeros. Its space is only booked here; donors lend memory for it at its
     * first write (a slab at a time).
     *
     * @throws IllegalArgumentException if {@code bytes} is not positive
     * @throws OutOfRemoteMemoryException if the page space has no room for it
     * @throws MemoryException if the memory is closed
     */
    public Region allocate(long bytes) throws MemoryException {
        checkOpen();
        if (bytes < 1) {
            throw new IllegalArgumentException("a region needs at least 1 byte, not " + bytes);
        }
        Placement p = allocator.allocate(bytes);
        if (p == null) {
            throw new OutOfRemoteMemoryException("cannot allocate " + bytes + " bytes: " + allocator.freePages()
                    * PageSpace.PAGE + " of " + capacity() + " bytes are free, the largest free run "
                    + allocator.longestFreeRun() * PageSpace.PAGE + " bytes (swapSpace in valet.yaml sets the space)");
        }
        return new Region(this, ids.incrementAndGet(), p);
    }

    /** {@link Region#free()}. */
    public void free(Region region) throws MemoryException {
        checkOwn(region);
        checkOpen();
        if (!space.forget(region.placement(), region::markFreed)) {
            throw new RegionFreedException(region + " was freed already");
        }
        allocator.free(region.placement());
    }

    /**
     * Reads every transfer (bulk: all their pages' requests in flight at once); each buffer's position moves to its
     * limit once all are read. Errors as {@link Region#read(long, ByteBuffer)}, for the first transfer that failed;
     * then no position moves.
     */
    public void read(List<Transfer> transfers) throws MemoryException {
        space.read(spans(transfers, true), this::checkLive);
        advance(transfers);
    }

    /** Writes every transfer, as {@link #read(List)} reads them; transfers that overlap land in some order. */
    public void write(List<Transfer> transfers) throws MemoryException {
        space.write(spans(transfers, false), this::checkLive);
        advance(transfers);
    }

    /** {@link #read(List)} on an async thread; bounds are checked at once (see {@link Region#readAsync}). */
    public CompletableFuture<Void> readAsync(List<Transfer> transfers) {
        List<Span> spans = spans(transfers, true);
        return submit(() -> {
            space.read(spans, this::checkLive);
            advance(transfers);
        });
    }

    /** {@link #write(List)} on an async thread; bounds are checked at once. */
    public CompletableFuture<Void> writeAsync(List<Transfer> transfers) {
        List<Span> spans = spans(transfers, false);
        return submit(() -> {
            space.write(spans, this::checkLive);
            advance(transfers);
        });
    }

    public MemoryStats stats() {
        EngineStats e = engine.stats();
        return new MemoryStats(capacity(), allocator.regions(), allocator.bytes(),
                allocator.freePages() * PageSpace.PAGE, allocator.longestFreeRun() * PageSpace.PAGE,
                allocator.slotPages(), space.cacheHits(), space.cacheMisses(), space.cachedBytes(),
                space.pagesFetched(), space.pagesStored(), e.liveDonors(), e.donors(), e.slabsMapped(),
                e.slabsDegraded());
    }

    /** The client engine under it (for tools and tests that watch replication). */
    public Engine engine() {
        return engine;
    }

    /**
     * Waits for reads and writes that are running, then disconnects: every region is gone (using one throws
     * {@link RegionFreedException}); the donors keep the slabs for this identity, as they do for a stopped client.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        async.shutdown();
        try {
            if (!async.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.warn("remote memory for {}: async calls still running after 1 minute; closing under them",
                        identity);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // kept for the caller: close() does not throw it
        }
        space.exclusively(() -> closed = true);
        engine.close();
    }

    @Override
    public String toString() {
        return "remote memory for " + identity + " (" + capacity() + " bytes)";
    }

    private void checkOpen() throws MemoryException {
        if (closed) {
            throw new MemoryException(this + " is closed");
        }
    }

    private void checkOwn(Region region) {
        if (region.memory() != this) {
            throw new IllegalArgumentException(region + " belongs to " + region.memory() + ", not " + this);
        }
    }

    /** The guard of every batch, under its pages' locks. */
    private void checkLive(Span span) throws MemoryException {
        Region r = (Region) span.owner();
        if (closed) {
            throw new RegionFreedException(r + ": " + this + " is closed");
        }
        if (r.isFreed()) {
            throw new RegionFreedException(r + " was freed");
        }
    }

    /** The transfers as spans of the page space, checked before anything is done. */
    private List<Span> spans(List<Transfer> transfers, boolean intoBuffers) {
        List<Span> spans = new ArrayList<>(transfers.size());
        for (Transfer t : transfers) {
            Region r = Objects.requireNonNull(t.region(), "region");
            ByteBuffer b = Objects.requireNonNull(t.buffer(), "buffer");
            checkOwn(r);
            int n = b.remaining();
            if (t.offset() < 0 || t.offset() > r.size() - n) {
                throw new IndexOutOfBoundsException("bytes " + t.offset() + ".." + (t.offset() + n - 1) + " are not"
                        + " all inside " + r);
            }
            if (intoBuffers && b.isReadOnly()) {
                throw new ReadOnlyBufferException();
            }
            if (n > 0) {
                spans.add(new Span(r.placement().address() + t.offset(), n, b, b.position(), r, t.offset()));
            }
        }
        return spans;
    }

    private static void advance(List<Transfer> transfers) {
        for (Transfer t : transfers) {
            t.buffer().position(t.buffer().limit());
        }
    }

    @FunctionalInterface
    private interface Call {
        void run() throws MemoryException;
    }

    private CompletableFuture<Void> submit(Call call) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        try {
            async.execute(() -> {
                try {
                    call.run();
                    f.complete(null);
                } catch (MemoryException | RuntimeException e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new MemoryException(this + " is closed"));
        }
        return f;
    }
}
