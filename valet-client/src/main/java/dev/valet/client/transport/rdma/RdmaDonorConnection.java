package dev.valet.client.transport.rdma;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.ClientHandshake;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorControl;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.client.transport.RequestTiming;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.rdma.Rdma;
import io.netty.buffer.ByteBuf;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * A {@link DonorConnection} over one RDMA reliable connection. Control requests are protocol frames by SEND/RECV
 * ({@link ControlFrames}); pages move by one-sided RDMA between registered {@link PageSlot}s and the donor's slab
 * ({@link PageTransfers}), several requests in flight. One agent ({@link RdmaLink}, run by an Agrona
 * {@link AgentRunner} with a {@link LinkIdleStrategy}) owns the queue pair. Callers claim a slot, encode a write
 * into it on their own thread, and queue it; a page request allocates nothing.
 */
final class RdmaDonorConnection implements DonorConnection, DonorControl.Requests {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDonorConnection.class);

    private final DonorAddress address;
    private final ClusterSecret secret;
    private final Duration connectTimeout;
    private final AdaptiveTimeout requestTimeout;
    private final int maxPages;
    private final RdmaLink link;
    private final WireCounters wire;
    private final DonorControl control = new DonorControl(this);
    private volatile DonorRequests donorRequests;
    private volatile HelloOk hello;
    private volatile Thread agentThread;

    /**
     * @param secret the cluster secret to prove and demand in the handshake, or {@code null} for none
     * @param wire   where replies and their round trips are counted (per donor, as over TCP)
     */
    RdmaDonorConnection(DonorAddress address, Duration connectTimeout, Duration requestTimeout, int clientMaxPages,
                        ClusterSecret secret, WireCounters wire) {
        this.address = address;
        this.secret = secret;
        this.connectTimeout = connectTimeout;
        this.requestTimeout = new AdaptiveTimeout(requestTimeout);
        this.maxPages = clientMaxPages;
        this.wire = wire;
        this.link = new RdmaLink(address, Rdma.get(), clientMaxPages, this.requestTimeout,
                new RequestTiming(wire, address), () -> donorRequests);
    }

    /**
     * Connects and runs the handshake every transport runs ({@link DonorControl#handshake}), within the connect
     * timeout, on a thread of its own (rdma_cm and the handshake wait; the queue pair is this thread's until the
     * agent starts); then starts the agent. Completes when the donor accepted.
     */
    CompletableFuture<DonorConnection> open(String identity) {
        CompletableFuture<DonorConnection> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            HelloOk ok;
            ClientHandshake handshake = new ClientHandshake(address, identity, secret);
            try {
                link.connect(connectTimeout);
                ok = new DonorControl(link.direct(connectTimeout)).handshake(handshake).join();
            } catch (IOException | RuntimeException | LinkageError e) {
                if (handshake.authFailed()) {
                    wire.authFailed(); // counted as over TCP
                }
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                link.broken(cause);
                link.release();
                LOG.debug("{}: no RDMA connection: {}", address, cause.toString()); // the caller reports it
                result.completeExceptionally(cause);
                return;
            }
            hello = new HelloOk(ok.donorInstanceId(), ok.pageSize(), Math.min(ok.maxFrameBytes(),
                    ControlFrames.REPLY_BYTES), ok.maxSlabBytes());
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
            DonorControl.checkPageCount(count, maxPages);
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
        DonorControl.checkPageCount(count, maxPages);
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

    private DonorUnavailableException unavailable() {
        String why = link.brokenReason();
        return new DonorUnavailableException(address + ": " + (why != null ? why : "connection closed"));
    }

    // ---- control requests (any thread; run by the agent one at a time)

    /** A control request ({@link DonorControl}), run by the agent: sent, its reply awaited, checked, decoded. */
    @Override
    public <T> CompletableFuture<T> request(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode,
                                            boolean urgent) {
        return link.submit(l -> l.call(opcode, body, decode), urgent);
    }

    @Override
    public CompletableFuture<DonorStats> stats() {
        return control.stats();
    }

    @Override
    public CompletableFuture<ClientShares> clientShares() {
        return control.clientShares();
    }

    /** ALLOC_SLAB, then REGISTER_SLAB: the slab's address and rkey for one-sided access. */
    @Override
    public CompletableFuture<Void> allocateSlab(long slabId, long slabBytes) {
        return control.allocateSlab(slabId, slabBytes).thenCompose(v -> link.submit(l -> l.register(slabId), false));
    }

    @Override
    public CompletableFuture<Void> freeSlab(long slabId) {
        link.submit(l -> l.forget(slabId), false); // before the FREE_SLAB: control requests run in order
        return control.freeSlab(slabId);
    }

    @Override
    public CompletableFuture<SlabList> listSlabs() {
        return control.listSlabs();
    }

    @Override
    public CompletableFuture<PageIndex> readIndex(long slabId, long firstPage, int count) {
        return control.readIndex(slabId, firstPage, count);
    }

    @Override
    public CompletableFuture<Long> heartbeat() {
        return control.heartbeat();
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
