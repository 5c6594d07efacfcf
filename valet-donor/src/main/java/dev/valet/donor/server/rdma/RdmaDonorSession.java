package dev.valet.donor.server.rdma;

import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.ProtocolException;
import dev.valet.common.protocol.RemoteSlab;
import dev.valet.common.protocol.SlabRef;
import dev.valet.common.rdma.Completions;
import dev.valet.common.rdma.FrameChannel;
import dev.valet.common.rdma.MemoryRegion;
import dev.valet.common.rdma.QueuePair;
import dev.valet.common.rdma.Rdma;
import dev.valet.common.rdma.VerbsLayout;
import dev.valet.donor.server.Donor;
import dev.valet.donor.server.DonorHandler;
import dev.valet.donor.store.Slab;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One client's RDMA connection to this donor. Control requests arrive by RECV and are answered by SEND with the
 * same frames as over TCP, served by the same {@link DonorHandler} (run in an embedded netty channel on this
 * session's thread); REGISTER_SLAB is answered here: it registers the caller's slab as a memory region under this
 * connection's own protection domain and returns its address and rkey. Page data never passes through here: the
 * client writes and reads the registered slabs one-sidedly. The donor's own requests to the client (EVICT) are
 * SENT from here too, and the client's answers arrive as receives like any request.
 */
final class RdmaDonorSession implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDonorSession.class);
    private static final int POLL_MS = 200;
    private static final int REMOTE_ACCESS = VerbsLayout.IBV_ACCESS_LOCAL_WRITE
            | VerbsLayout.IBV_ACCESS_REMOTE_WRITE | VerbsLayout.IBV_ACCESS_REMOTE_READ;

    private final Rdma rdma;
    private final long cmId;
    private final Donor donor;
    private final String peer;
    private final QueuePair qp;
    private final FrameChannel frames;
    private final Completions completions = new Completions(8);
    private final EmbeddedChannel handler;
    /** This connection's registrations by slab id, with the slab they were made for. */
    private final Map<Long, Registration> registered = new HashMap<>();
    /** Frames the donor sends on its own (EVICT), from any thread; SENT by this session's thread. */
    private final Queue<ByteBuf> outbox = new ConcurrentLinkedQueue<>();
    /** Receives polled but not served yet: (buffer index, length), in arrival order. */
    private final ArrayDeque<long[]> received = new ArrayDeque<>();
    private final Runnable onEnd;
    private volatile boolean stopping;
    private String pendingIdentity;
    private String identity;

    RdmaDonorSession(Rdma rdma, long cmId, Donor donor, String peer, Runnable onEnd) throws IOException {
        this.rdma = rdma;
        this.cmId = cmId;
        this.donor = donor;
        this.peer = peer;
        this.onEnd = onEnd;
        this.qp = new QueuePair(rdma, cmId, 4, RdmaControl.RECEIVE_BUFFERS);
        try {
            this.frames = new FrameChannel(qp, donor.maxFrameBytes(), RdmaControl.REQUEST_BYTES,
                    RdmaControl.RECEIVE_BUFFERS);
        } catch (IOException | RuntimeException e) {
            qp.close();
            throw e;
        }
        this.handler = new EmbeddedChannel(new FrameDecoder(RdmaControl.REQUEST_BYTES), new DonorHandler(donor));
        // The donor's EVICTs come from its memory thread: this session's thread SENDs them (see run).
        Donor.sendDonorRequestsVia(handler, outbox::add);
    }

    /** A slab's memory region on this connection; a slab freed and allocated again is a different {@link Slab}. */
    private record Registration(Slab slab, MemoryRegion mr) {
    }

    long cmId() {
        return cmId;
    }

    /** Asks the session thread to end (the peer disconnected, or the donor stops). */
    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        try {
            while (!stopping) {
                ByteBuf request = outbox.poll();
                long[] next = request == null ? received.poll() : null;
                if (request != null) {
                    sendAndWait(request); // the client answers it later, as one more receive
                } else if (next != null) {
                    serve((int) next[0], (int) next[1]);
                } else {
                    pollCompletions();
                }
                handler.runScheduledPendingTasks(); // the handler's handshake timeout
                if (!handler.isActive()) {
                    stopping = true; // the handler refused the client (handshake) or closed the connection
                }
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            if (!stopping) {
                LOG.warn("RDMA client {} ({}): {}; ending the session", identity, peer, e.toString());
            }
        } finally {
            end();
        }
    }

    /** One request from receive buffer {@code index}: answered, and the buffer given back. */
    private void serve(int index, int length) throws IOException {
        ByteBuf request = Unpooled.copiedBuffer(frames.received(index, length));
        frames.repost(index);
        int opcode = request.readableBytes() >= FrameHeader.SIZE
                ? request.getUnsignedByte(FrameHeader.OPCODE_OFFSET) : -1;
        long requestId = request.readableBytes() >= FrameHeader.SIZE
                ? request.getLong(FrameHeader.REQUEST_ID_OFFSET) : 0;
        if (opcode == Opcode.REGISTER_SLAB.code()) {
            if (identity == null && donor.secret().isPresent()) {
                request.release();
                LOG.warn("RDMA client at {}: REGISTER_SLAB before the handshake completed; closing", peer);
                stopping = true;
                return;
            }
            ByteBuf reply = registerSlab(requestId, request.slice(FrameHeader.SIZE,
                    request.readableBytes() - FrameHeader.SIZE));
            request.release();
            sendAndWait(reply);
            return;
        }
        if (opcode == Opcode.HELLO.code() && identity == null) {
            pendingIdentity = helloIdentity(request);
        }
        if (opcode == Opcode.FREE_SLAB.code() && identity != null && request.readableBytes() == FrameHeader.SIZE
                + SlabRef.SIZE) {
            Registration old = registered.remove(request.getLong(FrameHeader.SIZE));
            if (old != null) {
                qp.deregister(old.mr()); // before the slab is unmapped
            }
        }
        handler.writeInbound(request);
        for (ByteBuf reply = handler.readOutbound(); reply != null; reply = handler.readOutbound()) {
            if (reply.readableBytes() >= FrameHeader.SIZE && identity == null && pendingIdentity != null
                    && handshakeCompletedBy(reply.getUnsignedByte(FrameHeader.OPCODE_OFFSET))) {
                identity = pendingIdentity;
                LOG.info("RDMA client '{}' connected from {}", identity, peer);
            }
            sendAndWait(reply);
        }
        if (!handler.isActive()) {
            stopping = true; // the handler closed the connection (a broken frame header)
        }
    }

    /**
     * Whether this reply completes the handshake, so the identity of the HELLO is established: AUTH_OK, or
     * HELLO_OK from a donor without a cluster secret.
     */
    private boolean handshakeCompletedBy(int replyOpcode) {
        return replyOpcode == Opcode.AUTH_OK.code()
                || replyOpcode == Opcode.HELLO_OK.code() && donor.secret().isEmpty();
    }

    private static String helloIdentity(ByteBuf request) {
        try {
            return Hello.decode(request.slice(FrameHeader.SIZE, request.readableBytes() - FrameHeader.SIZE))
                    .identity();
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            return null; // the handler refuses it with the details
        }
    }

    private ByteBuf registerSlab(long requestId, ByteBuf body) {
        try {
            if (identity == null) {
                throw new ProtocolException(ErrorCode.HELLO_REQUIRED, "REGISTER_SLAB before HELLO", false);
            }
            long slabId = SlabRef.decode(body, "REGISTER_SLAB").slabId();
            Slab slab = donor.store().find(identity, slabId);
            if (slab == null) {
                throw new ProtocolException(ErrorCode.NO_SUCH_SLAB, "no slab " + slabId, false);
            }
            Registration reg = registered.get(slabId);
            MemoryRegion mr = reg != null && reg.slab() == slab ? reg.mr() : null;
            if (mr == null) {
                // None yet, or one made for an earlier slab of this id (freed over another connection): never
                // reuse it, its pages are not this slab's.
                synchronized (slab.lock()) {
                    if (slab.isFreed()) {
                        throw new ProtocolException(ErrorCode.NO_SUCH_SLAB, "slab " + slabId + " was freed", false);
                    }
                    try {
                        mr = qp.register(slab.address(), slab.mappedBytes(), REMOTE_ACCESS);
                    } catch (IOException e) {
                        throw new ProtocolException(ErrorCode.RDMA_REGISTRATION_FAILED, e.getMessage(), false);
                    }
                    slab.markRemotelyWritable(); // writes to it are one-sided from now on: never "unused"
                }
                Registration old = registered.put(slabId, new Registration(slab, mr));
                if (old != null) {
                    qp.deregister(old.mr());
                }
                LOG.debug("RDMA client '{}': slab {} registered ({} bytes, rkey {})", identity, slabId,
                        slab.mappedBytes(), Integer.toUnsignedString(mr.rkey()));
            }
            return Frames.encode(ByteBufAllocator.DEFAULT, Opcode.REGISTER_SLAB_OK, requestId,
                    new RemoteSlab(slabId, slab.address(), mr.rkey(), slab.pageCount()));
        } catch (ProtocolException e) {
            return Frames.encode(ByteBufAllocator.DEFAULT, Opcode.ERROR, requestId,
                    new ErrorReply(e.code(), e.getMessage()));
        }
    }

    /** SENDs one reply and waits until the send buffer is free again (receives meanwhile are kept for later). */
    private void sendAndWait(ByteBuf reply) throws IOException {
        try {
            if (reply.readableBytes() > donor.maxFrameBytes()) {
                long requestId = reply.getLong(FrameHeader.REQUEST_ID_OFFSET);
                reply.release();
                reply = Frames.encode(ByteBufAllocator.DEFAULT, Opcode.ERROR, requestId,
                        new ErrorReply(ErrorCode.INTERNAL, "reply larger than the RDMA control buffer"));
            }
            frames.send(reply);
        } finally {
            reply.release();
        }
        while (!stopping) {
            if (pollCompletions()) {
                return;
            }
        }
    }

    /**
     * One poll of the CQ (bounded wait): every receive in the batch is queued for {@link #serve}, in order; true
     * when the batch held the completion of the reply SEND. Every entry of a batch is looked at before returning,
     * so a receive that completed together with a send is never dropped.
     */
    private boolean pollCompletions() throws IOException {
        int n = qp.poll(completions.address(), completions.capacity(), POLL_MS);
        if (n < 0) {
            throw new IOException("completion queue failed");
        }
        boolean sent = false;
        for (int i = 0; i < n; i++) {
            if (completions.status(i) != VerbsLayout.IBV_WC_SUCCESS) {
                throw new IOException("completion status " + completions.status(i));
            }
            long wrId = completions.wrId(i);
            if (FrameChannel.isReceive(wrId)) {
                received.add(new long[] {FrameChannel.receiveIndex(wrId), completions.byteLength(i)});
            } else if (wrId == FrameChannel.SEND_WR_ID) {
                sent = true;
            }
        }
        return sent;
    }

    private void end() {
        stopping = true;
        rdma.cm().rdma_disconnect(cmId);
        handler.finishAndReleaseAll(); // channelInactive: the donor counts the client gone
        qp.close(); // deregisters every slab this client had registered: their rkeys die here
        frames.close();
        completions.close();
        registered.clear();
        for (ByteBuf unsent = outbox.poll(); unsent != null; unsent = outbox.poll()) {
            unsent.release(); // the donor asks again after the EVICT's deadline, on a connection that lives
        }
        if (identity != null) {
            LOG.info("RDMA client '{}' at {} disconnected", identity, peer);
        }
        onEnd.run();
    }
}
