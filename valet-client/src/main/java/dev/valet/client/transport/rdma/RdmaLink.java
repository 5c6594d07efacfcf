package dev.valet.client.transport.rdma;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.DonorConnection.DonorRequests;
import dev.valet.client.transport.DonorControl;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.EvictAnswer;
import dev.valet.client.transport.RequestTiming;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.RemoteSlab;
import dev.valet.common.protocol.SlabRef;
import dev.valet.common.rdma.CmEvent;
import dev.valet.common.rdma.CmEventChannel;
import dev.valet.common.rdma.Completions;
import dev.valet.common.rdma.Doorbell;
import dev.valet.common.rdma.FrameChannel;
import dev.valet.common.rdma.QueuePair;
import dev.valet.common.rdma.Rdma;
import dev.valet.common.rdma.SendWorkRequests;
import dev.valet.common.rdma.VerbsLayout;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The agent that owns one connection's queue pair. Each duty cycle takes the page requests callers queued, runs
 * one queued control request, starts what {@link PageTransfers} has room for, and takes completions in batches;
 * every {@value #WATCH_MS} ms it also looks for a disconnect and for a request overdue. When there is nothing to do,
 * {@link LinkIdleStrategy} has it {@link #sleep} on the completion channel and the {@link Doorbell} callers ring.
 * Anything but a donor's typed refusal ends the agent: the queue pair is then in an unknown state, and every
 * request still waiting fails with {@link DonorUnavailableException}.
 */
final class RdmaLink implements Agent, PageTransfers.RemoteSlabs, ControlFrames.Pump {
    static final int RECEIVE_BUFFERS = 2;
    /** Work requests page requests may have posted at once (at least one request of the largest size fits). */
    static final int PAGE_WRS = 2048;
    static final int WATCH_MS = 20;

    /** A queued control request: the work (on the agent's thread) and the future it completes. */
    private record ControlCall<T>(Call<T> call, CompletableFuture<T> future) {
        void run(RdmaLink link) throws IOException {
            try {
                future.complete(call.run(link));
            } catch (DonorException e) {
                future.completeExceptionally(e);
            } catch (IOException | RuntimeException e) {
                future.completeExceptionally(new DonorUnavailableException(link.address + ": " + e.getMessage(), e));
                throw e;
            }
        }
    }

    @FunctionalInterface
    interface Call<T> {
        T run(RdmaLink link) throws IOException;
    }

    private final DonorAddress address;
    private final Rdma rdma;
    private final int maxPages;
    private final AdaptiveTimeout requestTimeout;
    private final RequestTiming timing;
    private final Supplier<DonorRequests> donorRequests;
    private final ManyToOneConcurrentArrayQueue<PageSlot> submitted =
            new ManyToOneConcurrentArrayQueue<>(SlotPool.MAX_SLOTS);
    private final LinkedBlockingDeque<ControlCall<?>> controls = new LinkedBlockingDeque<>();
    private final Long2ObjectHashMap<RemoteSlab> remoteSlabs = new Long2ObjectHashMap<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Completions completions = new Completions(16);
    private CmEventChannel events;
    private long cmId;
    private QueuePair qp;
    private FrameChannel frames;
    private SendWorkRequests wrs;
    private SlotPool slots;
    private PageTransfers transfers;
    private ControlFrames control;
    private Doorbell doorbell;
    /** Completions taken by the last {@link #sleep} before it found them: handled first by the next duty cycle. */
    private int held;
    private long lastWatchNanos = System.nanoTime();
    /** Arming the completion queue failed (in {@link #sleep}): the next duty cycle ends the agent. */
    private boolean armFailed;
    private volatile boolean open;
    private volatile boolean closing;
    private volatile String brokenReason;

    RdmaLink(DonorAddress address, Rdma rdma, int maxPages, AdaptiveTimeout requestTimeout, RequestTiming timing,
             Supplier<DonorRequests> donorRequests) {
        this.address = address;
        this.rdma = rdma;
        this.maxPages = maxPages;
        this.requestTimeout = requestTimeout;
        this.timing = timing;
        this.donorRequests = donorRequests;
    }

    /** Connects (rdma_cm), on the calling thread; {@link #release} undoes what was done if this throws. */
    void connect(Duration timeout) throws IOException {
        doorbell = new Doorbell();
        events = new CmEventChannel(rdma);
        cmId = events.createId();
        RdmaConnector.resolve(rdma, events, cmId, address, timeout);
        int pageWrs = Math.max(PAGE_WRS, PageTransfers.workRequests(maxPages));
        qp = new QueuePair(rdma, cmId, pageWrs + 2, RECEIVE_BUFFERS);
        frames = new FrameChannel(qp, ControlFrames.REQUEST_BYTES, ControlFrames.REPLY_BYTES, RECEIVE_BUFFERS);
        wrs = new SendWorkRequests(PageTransfers.workRequests(maxPages));
        slots = new SlotPool(address, qp, maxPages);
        transfers = new PageTransfers(address, qp, wrs, slots, this, requestTimeout, timing, pageWrs);
        control = new ControlFrames(address, frames, this, timing);
        RdmaConnector.establish(rdma, events, cmId, address, timeout);
        open = true;
    }

    SlotPool slots() {
        return slots;
    }

    boolean isOpen() {
        return open;
    }

    CompletableFuture<Void> closed() {
        return closed;
    }

    String brokenReason() {
        return brokenReason;
    }

    // ---- from callers (any thread)

    /** Queues a page request (its slot filled in) for the agent. */
    void submit(PageSlot slot) {
        if (!open || !submitted.offer(slot)) {
            transfers.fail(slot, unavailable());
            return;
        }
        doorbell.ring();
        if (closed.isDone()) {
            failSubmitted(unavailable()); // queued after the agent's last look
        }
    }

    /**
     * Queues a control request. {@code urgent} ones (HEARTBEAT, STATS, EVICT answers: they change nothing a page
     * request depends on) go ahead of queued ones, so a busy link is not mistaken for a dead donor.
     */
    <T> CompletableFuture<T> submit(Call<T> call, boolean urgent) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (!open) {
            f.completeExceptionally(unavailable());
            return f;
        }
        ControlCall<T> c = new ControlCall<>(call, f);
        if (urgent) {
            controls.addFirst(c);
        } else {
            controls.addLast(c);
        }
        doorbell.ring();
        if (closed.isDone() && controls.remove(c)) {
            f.completeExceptionally(unavailable());
        }
        return f;
    }

    /** Asks the agent to stop; it fails what is still waiting as it goes. */
    void close() {
        closing = true;
        if (doorbell != null && !closed.isDone()) {
            doorbell.ring();
        }
    }

    private DonorUnavailableException unavailable() {
        return new DonorUnavailableException(address + ": "
                + (brokenReason != null ? brokenReason : open ? "connection closed" : "not connected"));
    }

    private void failSubmitted(Throwable why) {
        for (PageSlot s = submitted.poll(); s != null; s = submitted.poll()) {
            transfers.fail(s, why);
        }
    }

    // ---- the agent's thread (or the connecting thread, before the agent starts)

    @Override
    public String roleName() {
        return "valet-rdma-" + address;
    }

    @Override
    public int doWork() {
        if (closing) {
            throw new AgentTerminationException("connection closed");
        }
        try {
            if (armFailed) {
                throw new IOException("arming the completion queue failed");
            }
            int work = dispatchHeld();
            for (PageSlot s = submitted.poll(); s != null; s = submitted.poll()) {
                transfers.queue(s);
                work++;
            }
            ControlCall<?> c = controls.poll();
            if (c != null) {
                c.run(this);
                work++;
            }
            work += transfers.startReady();
            int n = qp.pollNow(completions.address(), completions.capacity());
            if (n < 0) {
                throw new IOException("completion queue failed");
            }
            dispatch(n);
            work += n;
            long now = System.nanoTime();
            if (now - lastWatchNanos > WATCH_MS * 1_000_000L) {
                lastWatchNanos = now;
                watch(now);
            }
            return work;
        } catch (IOException | RuntimeException | LinkageError e) { // AgentRunner would carry on after anything else
            throw new AgentTerminationException(e);
        }
    }

    private int dispatchHeld() throws IOException {
        int n = held;
        held = 0;
        dispatch(n);
        return n;
    }

    /**
     * Arms the completion queue and sleeps until a completion, a caller's doorbell or {@value #WATCH_MS} ms,
     * unless completions or queued requests are already there.
     */
    void sleep() {
        if (closing) {
            return; // the next duty cycle ends the agent
        }
        if (!qp.arm()) {
            armFailed = true;
            return;
        }
        held = Math.max(0, qp.pollNow(completions.address(), completions.capacity()));
        if (held > 0) {
            return;
        }
        doorbell.sleeping();
        if (submitted.isEmpty() && controls.isEmpty() && !closing) {
            qp.sleep(doorbell, WATCH_MS);
        }
        doorbell.awake();
    }

    @Override
    public void pump(long deadlineNanos) throws IOException {
        int leftMs = (int) Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000L);
        int n = dispatchHeld();
        if (n == 0) {
            n = qp.poll(completions.address(), completions.capacity(), leftMs);
            if (n < 0) {
                throw new IOException("completion queue failed");
            }
            dispatch(n);
        }
    }

    /** Completions {@code 0 .. n} of the array, in order. */
    private void dispatch(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            int status = completions.status(i);
            if (status != VerbsLayout.IBV_WC_SUCCESS) {
                throw new IOException("work request failed with status " + status
                        + (status == VerbsLayout.IBV_WC_WR_FLUSH_ERR ? " (flushed: connection down)" : ""));
            }
            long id = completions.wrId(i);
            if (FrameChannel.isReceive(id)) {
                received(FrameChannel.receiveIndex(id), completions.byteLength(i));
            } else if (id == FrameChannel.SEND_WR_ID) {
                control.sent();
            } else if (PageTransfers.isPageWr(id)) {
                transfers.completed(id);
            } else {
                throw new IOException("completion of unknown work request " + Long.toHexString(id));
            }
        }
    }

    /** A frame in receive buffer {@code index}: a donor's EVICT (the engine is asked), or a control reply. */
    private void received(int index, int length) throws IOException {
        ByteBuf in = frames.received(index, length);
        if (ControlFrames.frameProblem(in) == null
                && in.getUnsignedByte(FrameHeader.OPCODE_OFFSET) == Opcode.EVICT.code()) {
            CompletableFuture<EvictAnswer> answer;
            try {
                answer = EvictAnswer.of(address, in.getLong(FrameHeader.REQUEST_ID_OFFSET),
                        in.slice(FrameHeader.SIZE, in.readableBytes() - FrameHeader.SIZE), donorRequests.get());
            } finally {
                frames.repost(index);
            }
            answer.thenAccept(a -> submit(link -> link.sendEvictAnswer(a), true));
            return;
        }
        control.received(index, length, in);
    }

    private Void sendEvictAnswer(EvictAnswer answer) throws IOException {
        ByteBuf out = answer.encode(UnpooledByteBufAllocator.DEFAULT);
        try {
            control.send(out, Duration.ofNanos(requestTimeout.nanos()));
        } finally {
            out.release();
        }
        return null;
    }

    private void watch(long now) throws IOException {
        CmEvent e = events.next(0);
        if (e != null && e.type() == VerbsLayout.RDMA_CM_EVENT_DISCONNECTED) {
            throw new IOException("donor disconnected");
        }
        String overdue = transfers.overdue(now);
        if (overdue != null) {
            throw new ControlFrames.CompletionTimeout(overdue);
        }
    }

    /**
     * Control requests run at once on the calling thread, each within {@code timeout}: the handshake's, before the
     * agent starts (the queue pair is then the connecting thread's).
     */
    DonorControl.Requests direct(Duration timeout) {
        return new DonorControl.Requests() {
            @Override
            public <T> CompletableFuture<T> request(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode,
                                                    boolean urgent) {
                try {
                    return CompletableFuture.completedFuture(control.call(opcode, body, decode, timeout));
                } catch (IOException | RuntimeException e) {
                    return CompletableFuture.failedFuture(e);
                }
            }
        };
    }

    /** A control request and its checked, decoded reply, within the request timeout. */
    <T> T call(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode) throws IOException {
        return control.call(opcode, body, decode, Duration.ofNanos(requestTimeout.nanos()));
    }

    @Override
    public RemoteSlab remote(long slabId) throws IOException {
        RemoteSlab r = remoteSlabs.get(slabId);
        if (r == null) {
            r = call(Opcode.REGISTER_SLAB, new SlabRef(slabId), RemoteSlab::decode);
            if (r.slabId() != slabId) {
                throw new IOException("REGISTER_SLAB_OK for slab " + r.slabId() + ", expected " + slabId);
            }
            remoteSlabs.put(slabId, r);
        }
        return r;
    }

    /** Forgets a slab's remote address (freed). */
    Void forget(long slabId) {
        remoteSlabs.remove(slabId);
        return null;
    }

    /** Registers a slab (allocated anew) for one-sided access, forgetting any older registration of its id. */
    Void register(long slabId) throws IOException {
        remoteSlabs.remove(slabId);
        remote(slabId);
        return null;
    }

    /** The agent ended: why, for the requests that fail and for the log. */
    void broken(Throwable why) {
        Throwable cause = why instanceof AgentTerminationException && why.getCause() != null ? why.getCause() : why;
        if (brokenReason == null && !closing) {
            brokenReason = cause instanceof IOException || cause instanceof RuntimeException
                    ? String.valueOf(cause.getMessage()) : cause.toString();
        }
    }

    @Override
    public void onClose() {
        release();
    }

    /** Fails every waiting request and frees the connection's resources. */
    void release() {
        open = false;
        closing = true;
        DonorUnavailableException gone = unavailable();
        if (cmId != 0) {
            rdma.cm().rdma_disconnect(cmId);
        }
        if (qp != null) {
            qp.close();
        }
        if (transfers != null) {
            failSubmitted(gone);
            transfers.failAll(gone);
        }
        for (ControlCall<?> c = controls.poll(); c != null; c = controls.poll()) {
            c.future().completeExceptionally(gone);
        }
        if (frames != null) {
            frames.close();
        }
        if (wrs != null) {
            wrs.close();
        }
        if (slots != null) {
            slots.close();
        }
        if (cmId != 0) {
            rdma.cm().rdma_destroy_id(cmId);
        }
        if (events != null) {
            events.close();
        }
        completions.close();
        closed.complete(null);
        if (transfers != null) {
            failSubmitted(gone);
        }
        for (ControlCall<?> c = controls.poll(); c != null; c = controls.poll()) {
            c.future().completeExceptionally(gone);
        }
        if (doorbell != null) {
            doorbell.close();
        }
    }
}
