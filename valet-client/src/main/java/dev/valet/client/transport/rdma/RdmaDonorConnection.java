package dev.valet.client.transport.rdma;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.ClientHandshake;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.IndexRequest;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.protocol.SlabRef;
import dev.valet.common.rdma.Rdma;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link DonorConnection} over one RDMA reliable connection. Control requests are protocol frames by SEND/RECV
 * ({@link ControlFrames}); pages move by one-sided RDMA between registered {@link PageSlot}s and the donor's slab
 * ({@link PageTransfers}), several requests in flight. One agent ({@link RdmaLink}, run by an Agrona
 * {@link AgentRunner} with a {@link LinkIdleStrategy}) owns the queue pair. Callers claim a slot, encode a write
 * into it on their own thread, and queue it; a page request allocates nothing.
 */
final class RdmaDonorConnection implements DonorConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDonorConnection.class);

    private final DonorAddress address;
    private final ClusterSecret secret;
    private final Duration connectTimeout;
    private final AdaptiveTimeout requestTimeout;
    private final int maxPages;
    private final RdmaLink link;
    private volatile DonorRequests donorRequests;
    private volatile HelloOk hello;
    private volatile Thread agentThread;

    /** @param secret the cluster secret to prove and demand in the handshake, or {@code null} for none */
    RdmaDonorConnection(DonorAddress address, Duration connectTimeout, Duration requestTimeout, int clientMaxPages,
                        ClusterSecret secret) {
        this.address = address;
        this.secret = secret;
        this.connectTimeout = connectTimeout;
        this.requestTimeout = new AdaptiveTimeout(requestTimeout);
        this.maxPages = clientMaxPages;
        this.link = new RdmaLink(address, Rdma.get(), clientMaxPages, this.requestTimeout, () -> donorRequests);
    }

    /**
     * Connects, says HELLO as {@code identity} and runs the same handshake as over TCP (with a cluster secret: the
     * donor's proof checked, AUTH sent, AUTH_OK awaited), on a thread of its own; then starts the agent. Completes
     * when the donor accepted.
     */
    CompletableFuture<DonorConnection> open(String identity) {
        CompletableFuture<DonorConnection> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                handshake(identity);
            } catch (IOException | RuntimeException | LinkageError e) {
                link.broken(e);
                link.release();
                LOG.debug("{}: no RDMA connection: {}", address, e.toString()); // the caller reports it
                result.completeExceptionally(e);
                return;
            }
            AgentRunner runner = new AgentRunner(new LinkIdleStrategy(link), this::agentFailed, null, link);
            agentThread = AgentRunner.startOnThread(runner, r -> {
                Thread agent = new Thread(r, link.roleName());
                agent.setDaemon(true);
                return agent;
            });
            LOG.info("{}: connected over RDMA as '{}'", address, identity);
            result.complete(this);
        }, "valet-rdma-connect-" + address);
        t.setDaemon(true);
        t.start();
        return result;
    }

    private void handshake(String identity) throws IOException {
        link.connect(connectTimeout);
        ClientHandshake handshake = new ClientHandshake(address, identity, secret);
        HelloOk ok = link.call(Opcode.HELLO, handshake.hello(), Opcode.HELLO_OK, HelloOk::decode, connectTimeout);
        AuthProof proof = handshake.answer(ok);
        if (proof != null) {
            try {
                link.call(Opcode.AUTH, proof, Opcode.AUTH_OK, body -> {
                    Frames.requireEmpty(body, "AUTH_OK");
                    return ok;
                }, connectTimeout);
            } catch (IOException | RuntimeException e) {
                throw handshake.refusedAfterAuth(e);
            }
        }
        hello = new HelloOk(ok.donorInstanceId(), ok.pageSize(), Math.min(ok.maxFrameBytes(),
                ControlFrames.REPLY_BYTES), ok.maxSlabBytes());
    }

    private void agentFailed(Throwable e) {
        link.broken(e);
        Throwable cause = e instanceof AgentTerminationException && e.getCause() != null ? e.getCause() : e;
        if (!(e instanceof AgentTerminationException && e.getCause() == null)) { // not a plain close
            LOG.warn("{}: RDMA connection lost: {}", address, cause.getMessage());
        }
    }

    // ---- page requests (any thread)

    @Override
    public void writePages(long slabId, int count, PageSource source, WriteAnswer answer) {
        PageSlot slot;
        try {
            checkCount(count);
            slot = claim();
        } catch (RuntimeException e) {
            answer.written(e);
            return;
        }
        try {
            slot.fillWrite(slabId, count, source);
        } catch (RuntimeException e) {
            slot.release();
            answer.written(e);
            return;
        }
        slot.writeAnswer = answer;
        link.submit(slot);
    }

    @Override
    public void readPages(long slabId, long[] pageIndexes, int count, ReadAnswer answer) {
        PageSlot slot;
        try {
            slot = readSlot(slabId, pageIndexes, count);
        } catch (RuntimeException e) {
            answer.pagesRead(null, e);
            return;
        }
        slot.readAnswer = answer;
        link.submit(slot);
    }

    @Override
    public CompletableFuture<Void> writePages(long slabId, int count, PageSource source) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        writePages(slabId, count, source, error -> {
            if (error == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(error);
            }
        });
        return f;
    }

    @Override
    public CompletableFuture<ReceivedPages> readPages(long slabId, long[] pageIndexes, int count) {
        CompletableFuture<ReceivedPages> f = new CompletableFuture<>();
        PageSlot slot;
        try {
            slot = readSlot(slabId, pageIndexes, count);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        slot.readFuture = f;
        link.submit(slot);
        return f;
    }

    private PageSlot readSlot(long slabId, long[] pageIndexes, int count) {
        checkCount(count);
        PageSlot slot = claim();
        slot.fillRead(slabId, pageIndexes, count);
        return slot;
    }

    private PageSlot claim() {
        if (!link.isOpen()) {
            throw unavailable();
        }
        return link.slots().claim();
    }

    private void checkCount(int count) {
        if (count < 1 || count > maxPages) {
            throw new IllegalArgumentException(count + " pages in one request; this connection allows 1.."
                    + maxPages);
        }
    }

    private DonorUnavailableException unavailable() {
        String why = link.brokenReason();
        return new DonorUnavailableException(address + ": " + (why != null ? why : "connection closed"));
    }

    // ---- control requests (any thread; run by the agent)

    @Override
    public CompletableFuture<DonorStats> stats() {
        return link.submit(l -> l.call(Opcode.STATS, null, Opcode.STATS_OK, DonorStats::decode), true);
    }

    @Override
    public CompletableFuture<Void> allocateSlab(long slabId, long slabBytes) {
        return link.submit(l -> {
            l.call(Opcode.ALLOC_SLAB, new SlabAlloc(slabId, slabBytes), Opcode.ALLOC_SLAB_OK,
                    b -> SlabRef.decode(b, "ALLOC_SLAB_OK"));
            l.forget(slabId);
            l.remote(slabId);
            return null;
        }, false);
    }

    @Override
    public CompletableFuture<Void> freeSlab(long slabId) {
        return link.submit(l -> {
            l.forget(slabId);
            l.call(Opcode.FREE_SLAB, new SlabRef(slabId), Opcode.FREE_SLAB_OK, b -> SlabRef.decode(b, "FREE_SLAB_OK"));
            return null;
        }, false);
    }

    @Override
    public CompletableFuture<SlabList> listSlabs() {
        return link.submit(l -> l.call(Opcode.LIST_SLABS, null, Opcode.LIST_SLABS_OK, SlabList::decode), false);
    }

    @Override
    public CompletableFuture<PageIndex> readIndex(long slabId, long firstPage, int count) {
        return link.submit(l -> {
            PageIndex index = l.call(Opcode.READ_INDEX, new IndexRequest(slabId, firstPage, count),
                    Opcode.READ_INDEX_OK, PageIndex::decode);
            if (index.slabId() != slabId || index.firstPage() != firstPage || index.count() != count) {
                throw new IOException("READ_INDEX_OK for slab " + index.slabId() + " pages " + index.firstPage()
                        + "+" + index.count() + ", expected " + slabId + " " + firstPage + "+" + count);
            }
            return index;
        }, false);
    }

    @Override
    public CompletableFuture<Long> heartbeat() {
        return link.submit(l -> {
            Heartbeat echo = l.call(Opcode.HEARTBEAT, new Heartbeat(System.nanoTime()), Opcode.HEARTBEAT_OK,
                    Heartbeat::decode);
            return System.nanoTime() - echo.senderNanos(); // read the clock after the echo, not before the call
        }, true);
    }

    // ---- the rest

    @Override
    public DonorAddress address() {
        return address;
    }

    @Override
    public HelloOk hello() {
        return hello;
    }

    @Override
    public int maxPagesPerRequest() {
        return maxPages;
    }

    @Override
    public boolean isOpen() {
        return link.isOpen();
    }

    @Override
    public CompletableFuture<Void> closed() {
        return link.closed();
    }

    @Override
    public void onDonorRequests(DonorRequests handler) {
        this.donorRequests = handler;
    }

    @Override
    public void close() {
        link.close();
        Thread agent = agentThread;
        if (agent != null && agent.isAlive() && Thread.currentThread() != agent) {
            try {
                agent.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "donor " + address + " (rdma)";
    }
}
