package dev.valet.client.transport.rdma;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.ClientHandshake;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.EvictAnswer;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.posix.AnonymousMemory;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.IndexRequest;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.ProtocolException;
import dev.valet.common.protocol.RemoteSlab;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.protocol.SlabRef;
import dev.valet.common.rdma.CmEvent;
import dev.valet.common.rdma.CmEventChannel;
import dev.valet.common.rdma.Completions;
import dev.valet.common.rdma.ConnectionParameters;
import dev.valet.common.rdma.FrameChannel;
import dev.valet.common.rdma.MemoryRegion;
import dev.valet.common.rdma.NativeMemory;
import dev.valet.common.rdma.QueuePair;
import dev.valet.common.rdma.Rdma;
import dev.valet.common.rdma.SendWorkRequests;
import dev.valet.common.rdma.SocketAddresses;
import dev.valet.common.rdma.VerbsLayout;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A {@link DonorConnection} over one RDMA reliable connection. Control requests are protocol frames by SEND/RECV;
 * pages move by one-sided RDMA from registered page slots straight into the donor's slab (data, then the page's
 * metadata entry) and back. A write completes only after a 1-byte RDMA READ posted behind its WRITEs on the same
 * queue pair has completed: the responder executes a READ only after the WRITEs before it, so its completion proves
 * they are placed in the donor's memory.
 *
 * <p>One thread per connection owns the queue pair: requests are queued to it and run one at a time, each as one
 * chain of pre-built work requests (changed in place, posted with one native call) and a wait for its signaled
 * completion (bounded spin, then the completion channel). Callers encode writes into a slot on their own thread.
 * Between and during requests the thread also takes the donor's EVICTs (SENDs of their own): the engine is asked,
 * and its answer goes back as one more SEND, queued ahead of page batches.
 */
final class RdmaDonorConnection implements DonorConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDonorConnection.class);
    /** Page slots registered at connect; more are added while callers keep more requests in flight. */
    static final int INITIAL_SLOTS = 4;
    /** Slots past which growth is logged: a caller keeping this many requests in flight is unusual. */
    static final int MANY_SLOTS = 64;
    static final int REQUEST_BYTES = 64 * 1024;
    /** The largest control reply taken; HELLO_OK is capped to it so the engine never asks for more. */
    static final int REPLY_BYTES = 1024 * 1024;
    private static final int RECEIVE_BUFFERS = 2;
    private static final int WRITE_ENTRIES = FrameHeader.SIZE + PageBatch.HEADER_SIZE;
    private static final int READ_ENTRIES = FrameHeader.SIZE + PageBatch.HEADER_SIZE;
    private static final int ZERO_PAGE_CRC = PageChecksum.ZERO_PAGE_CRC;
    /** What {@link #await} waits for when it is a control request's reply rather than a work request. */
    private static final long REPLY = 0;
    /** No work request (work request ids start at 1). */
    private static final long NOTHING = -1;

    private final DonorAddress address;
    private final ClusterSecret secret;
    private final Duration connectTimeout;
    private final AdaptiveTimeout requestTimeout;
    private final int maxPages;
    private final Rdma rdma;
    private final LinkedBlockingDeque<Request<?>> queue = new LinkedBlockingDeque<>();
    private final BlockingQueue<PageSlot> slots = new LinkedBlockingQueue<>();
    private final List<AnonymousMemory> slotMemory = new ArrayList<>();
    private final Map<Long, RemoteSlab> remoteSlabs = new HashMap<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Thread worker;
    private final Completions completions = new Completions(16);
    private CmEventChannel events;
    private long cmId;
    private QueuePair qp;
    private FrameChannel frames;
    private int slotBytes;
    private SendWorkRequests wrs;
    private long nextRequestId = 1;
    private long nextWrId = 1;
    /** The receive buffer holding the awaited control reply, or -1. */
    private int receivedIndex = -1;
    private int receivedLength;
    /** A SEND (control request or EVICT answer) not completed yet: the one send buffer is still in use. */
    private boolean sendPending;
    private boolean awaitedDone;
    private volatile DonorRequests donorRequests;
    private volatile HelloOk hello;
    private volatile boolean open;
    private volatile boolean closing;
    private volatile String brokenReason;

    /** @param secret the cluster secret to prove and demand in the handshake, or {@code null} for none */
    RdmaDonorConnection(DonorAddress address, Duration connectTimeout, Duration requestTimeout, int clientMaxPages,
                        ClusterSecret secret) {
        this.address = address;
        this.secret = secret;
        this.connectTimeout = connectTimeout;
        this.requestTimeout = new AdaptiveTimeout(requestTimeout);
        this.maxPages = clientMaxPages;
        this.rdma = Rdma.get();
        this.worker = new Thread(this::serve, "valet-rdma-" + address);
        this.worker.setDaemon(true);
    }

    /** A queued request: the work (on the connection's thread) and the future it completes. */
    private record Request<T>(Call<T> call, CompletableFuture<T> future) {
        void run() {
            try {
                future.complete(call.run());
            } catch (DonorException e) {
                future.completeExceptionally(e);
            } catch (Throwable e) { // anything else leaves the queue pair in an unknown state: never a hung caller
                future.completeExceptionally(new DonorUnavailableException(String.valueOf(e.getMessage()), e));
                throw new BrokenConnection(e);
            }
        }
    }

    @FunctionalInterface
    private interface Call<T> {
        T run() throws IOException;
    }

    /** Anything but a donor's typed refusal: the queue pair is unusable from here on. */
    /** No completion arrived in time: the donor (or this host) may only be slow. */
    static final class CompletionTimeout extends IOException {
        CompletionTimeout(String message) {
            super(message);
        }
    }

    private static final class BrokenConnection extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BrokenConnection(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    /**
     * Connects, says HELLO as {@code identity} and runs the same handshake as over TCP (with a cluster secret: the
     * donor's proof checked, AUTH sent, AUTH_OK awaited); completes when the donor accepted, on the connection's
     * thread.
     */
    CompletableFuture<DonorConnection> open(String identity) {
        CompletableFuture<DonorConnection> result = new CompletableFuture<>();
        queue.add(new Request<>(() -> {
            connect();
            ClientHandshake handshake = new ClientHandshake(address, identity, secret);
            HelloOk ok = control(Opcode.HELLO, handshake.hello(), Opcode.HELLO_OK, HelloOk::decode, connectTimeout);
            AuthProof proof = handshake.answer(ok);
            if (proof != null) {
                try {
                    control(Opcode.AUTH, proof, Opcode.AUTH_OK, body -> {
                        Frames.requireEmpty(body, "AUTH_OK");
                        return ok;
                    }, connectTimeout);
                } catch (IOException | RuntimeException e) {
                    throw handshake.refusedAfterAuth(e);
                }
            }
            hello = new HelloOk(ok.donorInstanceId(), ok.pageSize(), Math.min(ok.maxFrameBytes(), REPLY_BYTES),
                    ok.maxSlabBytes());
            open = true;
            LOG.info("{}: connected over RDMA as '{}'", address, identity);
            return this;
        }, result));
        worker.start();
        return result;
    }

    private void connect() throws IOException {
        int timeoutMs = (int) Math.max(1, connectTimeout.toMillis());
        events = new CmEventChannel(rdma);
        cmId = events.createId();
        long sa = SocketAddresses.sockaddrIn(address.toSocketAddress());
        try {
            if (rdma.cm().rdma_resolve_addr(cmId, 0, sa, timeoutMs) != 0) {
                throw new IOException(rdma.lastError("rdma_resolve_addr"));
            }
        } finally {
            NativeMemory.free(sa);
        }
        events.expect(VerbsLayout.RDMA_CM_EVENT_ADDR_RESOLVED, timeoutMs, "resolving " + address);
        if (rdma.cm().rdma_resolve_route(cmId, timeoutMs) != 0) {
            throw new IOException(rdma.lastError("rdma_resolve_route"));
        }
        events.expect(VerbsLayout.RDMA_CM_EVENT_ROUTE_RESOLVED, timeoutMs, "route to " + address);
        // Each page is 2 work requests, plus the flush READ, plus the control SEND.
        qp = new QueuePair(rdma, cmId, 2 * maxPages + 4, RECEIVE_BUFFERS);
        frames = new FrameChannel(qp, REQUEST_BYTES, REPLY_BYTES, RECEIVE_BUFFERS);
        wrs = new SendWorkRequests(2 * maxPages + 1);
        slotBytes = (PageBatchEncoder.frameSize(maxPages) + maxPages * PageBatch.ENTRY_HEADER_SIZE + 8 + 4095)
                / 4096 * 4096;
        for (int i = 0; i < INITIAL_SLOTS; i++) {
            slots.add(newSlot());
        }
        long param = ConnectionParameters.allocate();
        try {
            if (rdma.cm().rdma_connect(cmId, param) != 0) {
                throw new IOException(rdma.lastError("rdma_connect"));
            }
        } finally {
            NativeMemory.free(param);
        }
        CmEvent e = events.next(timeoutMs);
        if (e == null || e.type() != VerbsLayout.RDMA_CM_EVENT_ESTABLISHED) {
            throw new IOException(address + " offers no RDMA connection: "
                    + (e == null ? "no answer within " + timeoutMs + " ms"
                    : e.name() + " (status " + e.status() + ")"));
        }
    }

    // ---- the connection's thread

    private void serve() {
        try {
            while (!closing) {
                // Events first: once a request is taken off the queue, nothing may stand between it and its run,
                // which completes its future whatever happens (a request dropped here would hang its caller).
                if (events != null && open) {
                    watchEvents();
                    pollIdle();
                }
                Request<?> r = queue.poll(50, TimeUnit.MILLISECONDS);
                if (r == null) {
                    continue;
                }
                if (closing) {
                    queue.addFirst(r); // teardown fails it with the rest
                    break;
                }
                r.run();
            }
        } catch (BrokenConnection e) {
            brokenReason = e.getMessage();
            if (hello == null) {
                LOG.debug("{}: no RDMA connection: {}", address, e.getMessage()); // the caller reports it
            } else {
                LOG.warn("{}: RDMA connection lost: {}", address, e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException | LinkageError e) {
            brokenReason = e.toString();
            LOG.warn("{}: RDMA connection failed: {}", address, e.toString());
        } finally {
            teardown();
        }
    }

    private void watchEvents() throws IOException {
        CmEvent e = events.next(0);
        if (e != null && e.type() == VerbsLayout.RDMA_CM_EVENT_DISCONNECTED) {
            throw new BrokenConnection(new IOException("donor disconnected"));
        }
    }

    private void teardown() {
        open = false;
        closing = true;
        String why = brokenReason != null ? brokenReason : "connection closed";
        if (cmId != 0) {
            rdma.cm().rdma_disconnect(cmId);
        }
        DonorUnavailableException gone = new DonorUnavailableException(address + ": " + why);
        for (Request<?> r = queue.poll(); r != null; r = queue.poll()) {
            r.future().completeExceptionally(gone);
        }
        if (qp != null) {
            qp.close();
        }
        if (frames != null) {
            frames.close();
        }
        if (wrs != null) {
            wrs.close();
        }
        synchronized (slotMemory) {
            if (slots.size() == slotMemory.size()) {
                slotMemory.forEach(AnonymousMemory::close);
            } else {
                // A caller still holds received pages: leave their memory mapped rather than pull it away.
                LOG.debug("{}: {} page slots still held at close; their mappings are kept", address,
                        slotMemory.size() - slots.size());
            }
        }
        if (cmId != 0) {
            rdma.cm().rdma_destroy_id(cmId);
        }
        if (events != null) {
            events.close();
        }
        completions.close();
        closed.complete(null);
        for (Request<?> r = queue.poll(); r != null; r = queue.poll()) {
            r.future().completeExceptionally(gone);
        }
    }

    /** Waits for the completion of work request {@code wrId}, or ({@link #REPLY}) for a control request's reply. */
    private void await(long wrId) throws IOException {
        long t0 = System.nanoTime();
        await(wrId, Duration.ofNanos(requestTimeout.nanos()));
        requestTimeout.observe(System.nanoTime() - t0);
    }

    private void await(long wrId, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        awaitedDone = false;
        while (!reached(wrId)) {
            long leftMs = (deadline - System.nanoTime()) / 1_000_000L;
            if (leftMs <= 0) {
                throw new CompletionTimeout("no completion " + (wrId == REPLY ? "of a receive"
                        : wrId == FrameChannel.SEND_WR_ID ? "of a SEND" : "of work request " + wrId)
                        + " within " + timeout.toMillis() + " ms (" + seen + " other completions; " + qp.describe()
                        + ")");
            }
            int n = qp.poll(completions.address(), completions.capacity(), (int) leftMs);
            if (n < 0) {
                throw new IOException("completion queue failed");
            }
            seen += n;
            for (int i = 0; i < n; i++) {
                onCompletion(i, wrId);
            }
        }
    }

    private boolean reached(long wrId) {
        if (wrId == REPLY) {
            return receivedIndex >= 0;
        }
        return wrId == FrameChannel.SEND_WR_ID ? !sendPending : awaitedDone;
    }

    /** Between requests: takes what completed meanwhile (a donor's EVICT), without waiting. */
    private void pollIdle() throws IOException {
        int n = qp.poll(completions.address(), completions.capacity(), 0);
        if (n < 0) {
            throw new IOException("completion queue failed");
        }
        for (int i = 0; i < n; i++) {
            onCompletion(i, NOTHING);
        }
    }

    /** Completion {@code i} of the last poll, while {@code wrId} is awaited. */
    private void onCompletion(int i, long wrId) throws IOException {
        int status = completions.status(i);
        if (status != VerbsLayout.IBV_WC_SUCCESS) {
            throw new IOException("work request failed with status " + status
                    + (status == VerbsLayout.IBV_WC_WR_FLUSH_ERR ? " (flushed: connection down)" : ""));
        }
        long id = completions.wrId(i);
        if (FrameChannel.isReceive(id)) {
            onReceive(FrameChannel.receiveIndex(id), completions.byteLength(i), wrId == REPLY);
        } else if (id == FrameChannel.SEND_WR_ID) {
            sendPending = false;
        } else if (id == wrId) {
            awaitedDone = true;
        }
    }

    /**
     * A frame in receive buffer {@code index}: a donor's EVICT is decoded, its buffer given back and the engine
     * asked (the answer is sent when it comes); anything else is the awaited reply, kept until
     * {@link #control} has read it.
     */
    private void onReceive(int index, int length, boolean replyAwaited) throws IOException {
        ByteBuf in = frames.received(index, length);
        String problem = frameProblem(in);
        if (problem == null && in.getUnsignedByte(FrameHeader.OPCODE_OFFSET) == Opcode.EVICT.code()) {
            CompletableFuture<EvictAnswer> answer;
            try {
                answer = EvictAnswer.of(address, in.getLong(FrameHeader.REQUEST_ID_OFFSET),
                        in.slice(FrameHeader.SIZE, in.readableBytes() - FrameHeader.SIZE), donorRequests);
            } finally {
                frames.repost(index);
            }
            answer.thenAccept(a -> submit(() -> answer(a), true));
            return;
        }
        if (!replyAwaited || receivedIndex >= 0) {
            frames.repost(index);
            throw new IOException("unexpected frame from the donor (" + length + " bytes, "
                    + (problem == null ? "opcode " + in.getUnsignedByte(FrameHeader.OPCODE_OFFSET) : problem) + ")");
        }
        receivedIndex = index;
        receivedLength = length;
    }

    /** Null if {@code in} is one whole frame of this protocol version, else what is wrong with it. */
    private static String frameProblem(ByteBuf in) {
        if (in.readableBytes() < FrameHeader.SIZE) {
            return "shorter than a frame header";
        }
        try {
            int frameBytes = FrameHeader.checkHeader(in, 0, REPLY_BYTES);
            return frameBytes == in.readableBytes() ? null
                    : "its header says " + frameBytes + " bytes, " + in.readableBytes() + " arrived";
        } catch (ProtocolException e) {
            return e.getMessage();
        }
    }

    /** Sends the answer to a donor's EVICT. */
    private Void answer(EvictAnswer answer) throws IOException {
        ByteBuf out = answer.encode(UnpooledByteBufAllocator.DEFAULT);
        try {
            send(out);
        } finally {
            out.release();
        }
        return null;
    }

    /** SENDs one frame, once the send buffer is free (the previous SEND completed). */
    private void send(ByteBuf frame) throws IOException {
        if (sendPending) {
            await(FrameChannel.SEND_WR_ID);
        }
        frames.send(frame);
        sendPending = true;
    }

    private <T> T control(Opcode opcode, MessageBody body, Opcode expected, Function<ByteBuf, T> decode)
            throws IOException {
        return control(opcode, body, expected, decode, Duration.ofNanos(requestTimeout.nanos()));
    }

    private <T> T control(Opcode opcode, MessageBody body, Opcode expected, Function<ByteBuf, T> decode,
                          Duration timeout) throws IOException {
        long requestId = nextRequestId++;
        ByteBuf out;
        if (body != null) {
            out = Frames.encode(UnpooledByteBufAllocator.DEFAULT, opcode, requestId, body);
        } else {
            out = UnpooledByteBufAllocator.DEFAULT.heapBuffer(FrameHeader.SIZE);
            Frames.finish(out, Frames.begin(out, opcode, requestId));
        }
        try {
            send(out);
        } finally {
            out.release();
        }
        receivedIndex = -1;
        await(REPLY, timeout);
        int index = receivedIndex;
        receivedIndex = -1;
        try {
            ByteBuf in = frames.received(index, receivedLength);
            String problem = frameProblem(in);
            if (problem != null) {
                throw new IOException("malformed reply frame (" + in.readableBytes() + " bytes): " + problem);
            }
            if (in.getLong(FrameHeader.REQUEST_ID_OFFSET) != requestId) {
                throw new IOException("reply to request " + in.getLong(FrameHeader.REQUEST_ID_OFFSET)
                        + ", expected " + requestId);
            }
            int op = in.getUnsignedByte(FrameHeader.OPCODE_OFFSET);
            ByteBuf replyBody = in.slice(FrameHeader.SIZE, in.readableBytes() - FrameHeader.SIZE);
            if (op == Opcode.ERROR.code()) {
                ErrorReply error = ErrorReply.decode(replyBody);
                throw new DonorException(address.toString(), error.code(), error.message());
            }
            if (op != expected.code()) {
                throw new IOException(String.format("reply opcode 0x%02x to %s", op, opcode));
            }
            return decode.apply(replyBody);
        } catch (ProtocolException e) {
            throw new IOException("malformed reply: " + e.getMessage(), e);
        } finally {
            frames.repost(index);
        }
    }

    private RemoteSlab remote(long slabId) throws IOException {
        RemoteSlab r = remoteSlabs.get(slabId);
        if (r == null) {
            r = control(Opcode.REGISTER_SLAB, new SlabRef(slabId), Opcode.REGISTER_SLAB_OK, RemoteSlab::decode);
            if (r.slabId() != slabId) {
                throw new IOException("REGISTER_SLAB_OK for slab " + r.slabId() + ", expected " + slabId);
            }
            remoteSlabs.put(slabId, r);
        }
        return r;
    }

    private Void write(long slabId, int count, PageSlot slot) throws IOException {
        try {
            RemoteSlab r = remote(slabId);
            ByteBuf buf = slot.buffer();
            int lkey = slot.lkey();
            for (int k = 0; k < count; k++) {
                int entry = WRITE_ENTRIES + k * PageBatch.ENTRY_SIZE;
                long pageIndex = buf.getUnsignedInt(entry);
                if (pageIndex >= r.pageCount()) {
                    throw new DonorException(address.toString(), ErrorCode.PAGE_OUT_OF_RANGE, "page " + pageIndex
                            + " outside slab " + slabId + " (" + r.pageCount() + " pages)");
                }
                if (buf.getLong(entry + 8) <= 0) {
                    throw new DonorException(address.toString(), ErrorCode.BAD_FRAME, "page " + pageIndex
                            + " has version " + buf.getLong(entry + 8));
                }
                wrs.set(k, 0, VerbsLayout.IBV_WR_RDMA_READ, k == count - 1,
                        slot.address() + slot.storedEntryIndex(k), PageBatch.ENTRY_HEADER_SIZE, lkey,
                        r.metadataAddress(pageIndex), r.rkey());
            }
            refuseStale(slabId, count, slot);
            for (int k = 0; k < count; k++) {
                int entry = WRITE_ENTRIES + k * PageBatch.ENTRY_SIZE;
                long pageIndex = buf.getUnsignedInt(entry);
                long local = slot.address() + entry;
                wrs.set(2 * k, 0, VerbsLayout.IBV_WR_RDMA_WRITE, false, local + PageBatch.ENTRY_HEADER_SIZE,
                        FrameHeader.PAGE_SIZE, lkey, r.dataAddress(pageIndex), r.rkey());
                wrs.set(2 * k + 1, 0, VerbsLayout.IBV_WR_RDMA_WRITE, false, local, PageBatch.ENTRY_HEADER_SIZE, lkey,
                        r.metadataAddress(pageIndex), r.rkey());
            }
            long flush = nextWrId++;
            // The proof of placement: a READ behind the WRITEs, completing only once they are in donor memory.
            wrs.set(2 * count, flush, VerbsLayout.IBV_WR_RDMA_READ, true, slot.scratchAddress(), 1, lkey,
                    r.metadataAddress(0), r.rkey());
            post(2 * count + 1);
            await(flush);
            return null;
        } finally {
            slot.release();
        }
    }

    /**
     * STALE_VERSION as a TCP donor enforces it, since this donor's CPU sees no one-sided write: the batch's stored
     * metadata entries are read first (the READs are already set up as work requests 0 .. count-1), and the batch
     * is refused, nothing written, if any stored version is newer than the one being written (an equal one is
     * fine: a retry). Every write to this donor from this client runs on this connection's thread, so nothing of
     * ours lands between this check and the WRITEs; other connections of the same identity are not covered.
     */
    private void refuseStale(long slabId, int count, PageSlot slot) throws IOException {
        long id = nextWrId++;
        NativeMemory.putLong(wrs.address(count - 1), VerbsLayout.SEND_WR_ID, id);
        post(count);
        await(id);
        ByteBuf buf = slot.buffer();
        for (int k = 0; k < count; k++) {
            int entry = WRITE_ENTRIES + k * PageBatch.ENTRY_SIZE;
            long stored = buf.getLong(slot.storedEntryIndex(k) + 8);
            long version = buf.getLong(entry + 8);
            if (stored > version) {
                throw new DonorException(address.toString(), ErrorCode.STALE_VERSION, "page "
                        + buf.getUnsignedInt(entry) + " of slab " + slabId + ": version " + version
                        + " is older than the stored " + stored);
            }
        }
    }

    private ReceivedPages read(long slabId, long[] pageIndexes, int count, PageSlot slot) throws IOException {
        boolean handedOver = false;
        try {
            RemoteSlab r = remote(slabId);
            ByteBuf buf = slot.buffer();
            int lkey = slot.lkey();
            for (int k = 0; k < count; k++) {
                long pageIndex = pageIndexes[k];
                if (pageIndex < 0 || pageIndex >= r.pageCount()) {
                    throw new DonorException(address.toString(), ErrorCode.PAGE_OUT_OF_RANGE, "page " + pageIndex
                            + " outside slab " + slabId + " (" + r.pageCount() + " pages)");
                }
                long local = slot.address() + READ_ENTRIES + (long) k * PageBatch.ENTRY_SIZE;
                wrs.set(2 * k, 0, VerbsLayout.IBV_WR_RDMA_READ, false, local, PageBatch.ENTRY_HEADER_SIZE, lkey,
                        r.metadataAddress(pageIndex), r.rkey());
                wrs.set(2 * k + 1, 0, VerbsLayout.IBV_WR_RDMA_READ, false, local + PageBatch.ENTRY_HEADER_SIZE,
                        FrameHeader.PAGE_SIZE, lkey, r.dataAddress(pageIndex), r.rkey());
            }
            long last = nextWrId++;
            wrs.set(2 * count - 1, last, VerbsLayout.IBV_WR_RDMA_READ, true,
                    slot.address() + READ_ENTRIES + (long) (count - 1) * PageBatch.ENTRY_SIZE
                            + PageBatch.ENTRY_HEADER_SIZE, FrameHeader.PAGE_SIZE, lkey,
                    r.dataAddress(pageIndexes[count - 1]), r.rkey());
            post(2 * count);
            await(last);
            int body = FrameHeader.SIZE;
            buf.setLong(body, slabId);
            buf.setInt(body + 8, count);
            for (int k = 0; k < count; k++) {
                int entry = READ_ENTRIES + k * PageBatch.ENTRY_SIZE;
                if (buf.getLong(entry + 8) == 0) {
                    // Never written: the donor's metadata entry is still zeros; say so as a TCP donor would.
                    buf.setInt(entry, (int) pageIndexes[k]);
                    buf.setInt(entry + 4, ZERO_PAGE_CRC);
                } else if (buf.getUnsignedInt(entry) != pageIndexes[k]) {
                    throw new DonorException(address.toString(), ErrorCode.INTERNAL, "slab " + slabId + " page "
                            + pageIndexes[k] + " holds the metadata of page " + buf.getUnsignedInt(entry));
                }
            }
            buf.setIndex(body, body + (int) PageBatch.bodySize(count));
            PageBatch pages = slot.batch().wrap(buf, "RDMA read");
            handedOver = true;
            return new ReceivedPages(pages, slot);
        } finally {
            if (!handedOver) {
                slot.release();
            }
        }
    }

    private void post(int n) throws IOException {
        wrs.chain(n);
        int err = qp.postSend(wrs.address(0));
        if (err != 0) {
            throw new IOException("ibv_post_send of " + n + " work requests failed: errno " + err);
        }
    }

    // ---- the DonorConnection API (any thread)

    private <T> CompletableFuture<T> submit(Call<T> call) {
        return submit(call, false);
    }

    /**
     * Queues a request for the connection's thread. {@code urgent} ones (HEARTBEAT, STATS: they change nothing) go
     * ahead of queued page batches, so a busy link is not mistaken for a dead donor.
     */
    private <T> CompletableFuture<T> submit(Call<T> call, boolean urgent) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (!open) {
            f.completeExceptionally(new DonorUnavailableException(address + ": "
                    + (brokenReason != null ? brokenReason : "not connected")));
            return f;
        }
        Request<T> r = new Request<>(call, f);
        if (urgent) {
            queue.addFirst(r);
        } else {
            queue.addLast(r);
        }
        if (closed.isDone() && queue.remove(r)) {
            f.completeExceptionally(new DonorUnavailableException(address + ": connection closed"));
        }
        return f;
    }

    /** A free page slot, or a new one: never waits (see {@link #growSlots()}). */
    private PageSlot claimSlot() {
        PageSlot slot = slots.poll();
        return (slot != null ? slot : growSlots()).claim();
    }

    /**
     * A new registered slot. Callers may ask from a completion callback, i.e. on a connection's own thread, which
     * must never wait for a slot that only a connection thread can give back: so the pool grows to the depth
     * callers keep in flight instead of blocking (allocation while it grows; none once it has).
     */
    private PageSlot growSlots() {
        synchronized (slotMemory) {
            if (!open) {
                throw new DonorUnavailableException(address + ": connection closed");
            }
            if (slotMemory.size() == MANY_SLOTS) {
                LOG.warn("{}: {} RDMA page slots in use ({} KiB each): callers keep that many requests in flight",
                        address, MANY_SLOTS, slotBytes / 1024);
            }
            try {
                return newSlot();
            } catch (IOException e) {
                throw new DonorUnavailableException(address + ": cannot register another page slot: "
                        + e.getMessage(), e);
            }
        }
    }

    private PageSlot newSlot() throws IOException {
        synchronized (slotMemory) {
            AnonymousMemory memory = AnonymousMemory.map(slotBytes, false);
            try {
                MemoryRegion mr = qp.register(memory.address(), slotBytes, VerbsLayout.IBV_ACCESS_LOCAL_WRITE);
                slotMemory.add(memory);
                return new PageSlot(memory.address(), memory.buffer(), mr.lkey(),
                        maxPages * PageBatch.ENTRY_HEADER_SIZE, slots);
            } catch (IOException | RuntimeException e) {
                memory.close();
                throw e;
            }
        }
    }

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
        return open;
    }

    @Override
    public CompletableFuture<Void> closed() {
        return closed;
    }

    @Override
    public CompletableFuture<DonorStats> stats() {
        return submit(() -> control(Opcode.STATS, null, Opcode.STATS_OK, DonorStats::decode), true);
    }

    @Override
    public CompletableFuture<Void> allocateSlab(long slabId, long slabBytes) {
        return submit(() -> {
            control(Opcode.ALLOC_SLAB, new SlabAlloc(slabId, slabBytes), Opcode.ALLOC_SLAB_OK,
                    b -> SlabRef.decode(b, "ALLOC_SLAB_OK"));
            remoteSlabs.remove(slabId);
            remote(slabId);
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> freeSlab(long slabId) {
        return submit(() -> {
            remoteSlabs.remove(slabId);
            control(Opcode.FREE_SLAB, new SlabRef(slabId), Opcode.FREE_SLAB_OK, b -> SlabRef.decode(b, "FREE_SLAB_OK"));
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> writePages(long slabId, int count, PageSource source) {
        checkCount(count);
        PageSlot slot = claimSlot();
        try {
            PageBatchEncoder encoder = slot.encoder().begin(slot.buffer(), Opcode.WRITE_PAGES, 0, slabId);
            source.addPagesTo(encoder);
            if (encoder.count() != count) {
                throw new IllegalArgumentException("page source added " + encoder.count() + " pages, not " + count);
            }
            encoder.finish();
        } catch (RuntimeException e) {
            slot.release();
            throw e;
        }
        CompletableFuture<Void> f = submit(() -> write(slabId, count, slot));
        if (f.isCompletedExceptionally() && slot.refCnt() > 0) {
            slot.release();
        }
        return f;
    }

    @Override
    public CompletableFuture<ReceivedPages> readPages(long slabId, long[] pageIndexes, int count) {
        checkCount(count);
        PageSlot slot = claimSlot();
        CompletableFuture<ReceivedPages> f = submit(() -> read(slabId, pageIndexes, count, slot));
        if (f.isCompletedExceptionally() && slot.refCnt() > 0) {
            slot.release();
        }
        return f;
    }

    @Override
    public CompletableFuture<SlabList> listSlabs() {
        return submit(() -> control(Opcode.LIST_SLABS, null, Opcode.LIST_SLABS_OK, SlabList::decode));
    }

    @Override
    public CompletableFuture<PageIndex> readIndex(long slabId, long firstPage, int count) {
        return submit(() -> {
            PageIndex index = control(Opcode.READ_INDEX, new IndexRequest(slabId, firstPage, count),
                    Opcode.READ_INDEX_OK, PageIndex::decode);
            if (index.slabId() != slabId || index.firstPage() != firstPage || index.count() != count) {
                throw new IOException("READ_INDEX_OK for slab " + index.slabId() + " pages " + index.firstPage()
                        + "+" + index.count() + ", expected " + slabId + " " + firstPage + "+" + count);
            }
            return index;
        });
    }

    @Override
    public CompletableFuture<Long> heartbeat() {
        return submit(() -> {
            Heartbeat echo = control(Opcode.HEARTBEAT, new Heartbeat(System.nanoTime()), Opcode.HEARTBEAT_OK,
                    Heartbeat::decode);
            return System.nanoTime() - echo.senderNanos(); // read the clock after the echo, not before the call
        }, true);
    }

    private void checkCount(int count) {
        if (count < 1 || count > maxPages) {
            throw new IllegalArgumentException(count + " pages in one request; this connection allows 1.."
                    + maxPages);
        }
    }

    @Override
    public void onDonorRequests(DonorRequests handler) {
        this.donorRequests = handler;
    }

    @Override
    public void close() {
        closing = true;
        if (worker.isAlive() && Thread.currentThread() != worker) {
            try {
                worker.join(5_000);
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
