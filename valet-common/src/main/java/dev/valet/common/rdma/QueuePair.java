package dev.valet.common.rdma;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The verbs resources of one RDMA connection, created on its rdma_cm_id's device: a protection domain of its own
 * (so registrations made for one peer are never valid on another's QP), one completion queue with a completion
 * channel (sends, receives, RDMA reads and writes all complete there), and an RC queue pair made by
 * rdma_create_qp. Completions are polled with a bounded spin, then by arming the CQ and waiting on the channel's
 * fd: {@link #poll} allocates nothing.
 */
public final class QueuePair implements SendQueue, AutoCloseable {
    /** Polls of an empty CQ before arming it and sleeping on the channel. */
    static final int SPIN_POLLS = 2_000;

    private final Rdma rdma;
    private final VerbsShim shim;
    private final long cmId;
    private final long pd;
    private final long compChannel;
    private final long cq;
    private final long qp;
    private final FdWaiter waiter;
    /** The completion channel's fd and a doorbell's, for {@link #sleep}; made at its first call. */
    private FdWaiter sleeper;
    private final long scratch = NativeMemory.allocate(16);
    private final List<MemoryRegion> regions = new ArrayList<>();
    private int unackedEvents;
    private boolean closed;

    /**
     * @param cmId      an id whose address (client) or connect request (donor) is resolved, so its device is known
     * @param maxSendWr send queue depth (outstanding sends, RDMA writes and reads)
     * @param maxRecvWr receive queue depth
     */
    public QueuePair(Rdma rdma, long cmId, int maxSendWr, int maxRecvWr) throws IOException {
        this.rdma = rdma;
        this.shim = rdma.shim();
        this.cmId = cmId;
        Verbs v = rdma.verbs();
        long context = NativeMemory.getAddress(cmId, VerbsLayout.CM_ID_VERBS);
        if (context == 0) {
            throw new IOException("rdma_cm_id has no device context (address not resolved)");
        }
        long pdAllocated = 0;
        long channelCreated = 0;
        long cqCreated = 0;
        long attr = NativeMemory.allocate(VerbsLayout.QP_INIT_ATTR_SIZE);
        try {
            pdAllocated = v.ibv_alloc_pd(context);
            if (pdAllocated == 0) {
                throw new IOException(rdma.lastError("ibv_alloc_pd"));
            }
            channelCreated = v.ibv_create_comp_channel(context);
            if (channelCreated == 0) {
                throw new IOException(rdma.lastError("ibv_create_comp_channel"));
            }
            cqCreated = v.ibv_create_cq(context, maxSendWr + maxRecvWr, 0, channelCreated, 0);
            if (cqCreated == 0) {
                throw new IOException(rdma.lastError("ibv_create_cq"));
            }
            NativeMemory.putAddress(attr, VerbsLayout.QP_INIT_SEND_CQ, cqCreated);
            NativeMemory.putAddress(attr, VerbsLayout.QP_INIT_RECV_CQ, cqCreated);
            NativeMemory.putInt(attr, VerbsLayout.QP_INIT_MAX_SEND_WR, maxSendWr);
            NativeMemory.putInt(attr, VerbsLayout.QP_INIT_MAX_RECV_WR, maxRecvWr);
            NativeMemory.putInt(attr, VerbsLayout.QP_INIT_MAX_SEND_SGE, 1);
            NativeMemory.putInt(attr, VerbsLayout.QP_INIT_MAX_RECV_SGE, 1);
            NativeMemory.putInt(attr, VerbsLayout.QP_INIT_QP_TYPE, VerbsLayout.IBV_QPT_RC);
            NativeMemory.putInt(attr, VerbsLayout.QP_INIT_SQ_SIG_ALL, 0);
            if (rdma.cm().rdma_create_qp(cmId, pdAllocated, attr) != 0) {
                throw new IOException(rdma.lastError("rdma_create_qp"));
            }
        } catch (IOException | RuntimeException e) {
            if (cqCreated != 0) {
                v.ibv_destroy_cq(cqCreated);
            }
            if (channelCreated != 0) {
                v.ibv_destroy_comp_channel(channelCreated);
            }
            if (pdAllocated != 0) {
                v.ibv_dealloc_pd(pdAllocated);
            }
            NativeMemory.free(scratch);
            throw e;
        } finally {
            NativeMemory.free(attr);
        }
        this.pd = pdAllocated;
        this.compChannel = channelCreated;
        this.cq = cqCreated;
        this.qp = NativeMemory.getAddress(cmId, VerbsLayout.CM_ID_QP);
        this.waiter = new FdWaiter(NativeMemory.getInt(compChannel, VerbsLayout.COMP_CHANNEL_FD));
    }

    public long cmId() {
        return cmId;
    }

    /** Registers {@code [address, address + length)} under this connection's protection domain. */
    @Override
    public synchronized MemoryRegion register(long address, long length, int access) throws IOException {
        long mr = rdma.verbs().ibv_reg_mr(pd, address, length, access);
        if (mr == 0) {
            throw new IOException(rdma.lastError("ibv_reg_mr(" + length + " bytes)"));
        }
        MemoryRegion region = new MemoryRegion(mr, address, length, NativeMemory.getInt(mr, VerbsLayout.MR_LKEY),
                NativeMemory.getInt(mr, VerbsLayout.MR_RKEY));
        regions.add(region);
        return region;
    }

    /** Deregisters; the peer's rkey stops working at once. */
    public synchronized void deregister(MemoryRegion region) {
        if (regions.remove(region)) {
            rdma.verbs().ibv_dereg_mr(region.mr());
        }
    }

    /** Posts a chain of send work requests (one native call); returns 0 or the errno of the refusal. */
    @Override
    public int postSend(long firstWr) {
        return shim.valet_post_send(qp, firstWr, scratch);
    }

    /** Posts a chain of receive work requests; returns 0 or an errno. */
    public int postRecv(long firstWr) {
        return shim.valet_post_recv(qp, firstWr, scratch);
    }

    /**
     * Up to {@code max} completions into the ibv_wc array at {@code wc}: spins {@link #SPIN_POLLS} polls, then arms
     * the CQ and waits on the completion channel. Returns how many (0 when {@code timeoutMs} passed with none), or
     * a negative value when the CQ failed.
     */
    public int poll(long wc, int max, int timeoutMs) {
        for (int i = 0; i < SPIN_POLLS; i++) {
            int n = shim.valet_poll_cq(cq, max, wc);
            if (n != 0) {
                return n;
            }
        }
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true) {
            if (shim.valet_req_notify_cq(cq, 0) != 0) {
                return -1;
            }
            int n = shim.valet_poll_cq(cq, max, wc); // a completion that arrived before arming
            if (n != 0) {
                return n;
            }
            long leftMs = (deadline - System.nanoTime()) / 1_000_000L;
            if (leftMs <= 0 || !waiter.awaitReadable((int) leftMs)) {
                return 0;
            }
            takeEvent();
            n = shim.valet_poll_cq(cq, max, wc);
            if (n != 0) {
                return n;
            }
        }
    }

    /** At most {@code max} completions into {@code wc} that are there now: one poll, no wait. */
    public int pollNow(long wc, int max) {
        return shim.valet_poll_cq(cq, max, wc);
    }

    /**
     * Asks for a completion event: after this, a completion not yet taken by {@link #pollNow} ends a
     * {@link #sleep}. A caller arms, polls once more (what came before arming), and sleeps only if that found
     * nothing. False when the CQ failed.
     */
    public boolean arm() {
        return shim.valet_req_notify_cq(cq, 0) == 0;
    }

    /**
     * Waits up to {@code timeoutMs} for a completion event (armed by {@link #arm}) or for {@code doorbell} to ring,
     * and takes the event if there is one. The completions themselves are then taken by {@link #pollNow}.
     */
    public void sleep(Doorbell doorbell, int timeoutMs) {
        FdWaiter w = sleeper;
        if (w == null) {
            w = new FdWaiter(NativeMemory.getInt(compChannel, VerbsLayout.COMP_CHANNEL_FD));
            w.alsoOn(doorbell.fd());
            sleeper = w;
        }
        if (w.awaitReadable(timeoutMs) && w.firstReadable()) {
            takeEvent();
        }
    }

    private void takeEvent() {
        if (rdma.verbs().ibv_get_cq_event(compChannel, scratch, scratch + 8) == 0) {
            // Acknowledged in batches: ibv_ack_cq_events takes a mutex.
            if (++unackedEvents >= 64) {
                rdma.verbs().ibv_ack_cq_events(cq, unackedEvents);
                unackedEvents = 0;
            }
        }
    }

    /**
     * The QP's state and its RDMA READ depths, for diagnostics ("state 3 (RTR), max_rd_atomic 16, ..."): what to
     * look at when a READ never completes.
     */
    @Override
    public synchronized String describe() {
        if (closed) {
            return "closed";
        }
        long attr = NativeMemory.allocate(VerbsLayout.QP_ATTR_SIZE);
        long init = NativeMemory.allocate(VerbsLayout.QP_INIT_ATTR_SIZE);
        try {
            int err = rdma.verbs().ibv_query_qp(qp, attr, VerbsLayout.IBV_QP_STATE
                    | VerbsLayout.IBV_QP_MAX_QP_RD_ATOMIC | VerbsLayout.IBV_QP_MAX_DEST_RD_ATOMIC, init);
            if (err != 0) {
                return "ibv_query_qp failed: errno " + err;
            }
            return "qp state " + NativeMemory.getInt(attr, VerbsLayout.QP_ATTR_STATE) + ", max_rd_atomic "
                    + NativeMemory.getUnsignedByte(attr, VerbsLayout.QP_ATTR_MAX_RD_ATOMIC) + ", max_dest_rd_atomic "
                    + NativeMemory.getUnsignedByte(attr, VerbsLayout.QP_ATTR_MAX_DEST_RD_ATOMIC);
        } finally {
            NativeMemory.free(attr);
            NativeMemory.free(init);
        }
    }

    /** Tears down (QP, registrations, CQ, channel, PD); the cm id itself stays with its owner. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Verbs v = rdma.verbs();
        rdma.cm().rdma_destroy_qp(cmId);
        for (MemoryRegion r : regions) {
            v.ibv_dereg_mr(r.mr());
        }
        regions.clear();
        if (unackedEvents > 0) {
            v.ibv_ack_cq_events(cq, unackedEvents);
        }
        v.ibv_destroy_cq(cq);
        v.ibv_destroy_comp_channel(compChannel);
        v.ibv_dealloc_pd(pd);
        waiter.close();
        if (sleeper != null) {
            sleeper.close();
        }
        NativeMemory.free(scratch);
    }
}
