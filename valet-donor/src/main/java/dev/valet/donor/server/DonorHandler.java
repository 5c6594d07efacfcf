package dev.valet.donor.server;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.protocol.AuthChallenge;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.IndexRequest;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageIndexList;
import dev.valet.common.protocol.PagesAck;
import dev.valet.common.protocol.ProtocolException;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabRef;
import dev.valet.donor.store.Slab;
import dev.valet.donor.store.SlabKey;
import dev.valet.donor.store.SlabStoreException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Serves one client connection. First the handshake: HELLO names the client identity that owns every slab this
 * connection touches; with a cluster secret the donor answers with its nonce and proof and the client must then
 * prove the secret with AUTH. Only then are slab and page requests served, each answered in order with its reply
 * or a typed ERROR. Malformed bodies get an error and change nothing; a broken frame header gets an error and the
 * connection is closed.
 *
 * <p>With a secret, a peer that has not authenticated gets nothing but a closed connection and one (rate-limited)
 * log line: no error frame for a failed proof, a request before AUTH_OK, a malformed frame or a handshake not done
 * within {@code limits.handshakeTimeout}. Beyond {@code limits.maxClients} authenticated connections, the next
 * one is closed the same way. A connection with {@code limits.maxInFlightPerConnection} requests whose replies are
 * not yet flushed, or with unsent replies past the write-buffer high mark, is not read from until they drain.
 *
 * <p>The request path allocates nothing per request: frames come in place ({@link
 * dev.valet.common.protocol.FrameDecoder#inPlace}), pages are read and checked where they lie in the receive
 * buffer, replies are encoded straight into pooled buffers and written without a promise (a failed write fails
 * the channel, which {@link #exceptionCaught} closes).
 */
public final class DonorHandler extends SimpleChannelInboundHandler<Frame> {
    private static final Logger LOG = LoggerFactory.getLogger(DonorHandler.class);

    private enum State { NEW, AWAITING_AUTH, READY }

    private final Donor donor;
    private final ClusterSecret secret;
    private final PageBatch batch = new PageBatch();
    private final PageIndexList indexes = new PageIndexList();
    private final PageBatchEncoder encoder = new PageBatchEncoder();
    private final int maxReadPages;
    private final int maxInFlight;
    /** Page indexes already met in the batch being checked; cleared after each batch. */
    private final BitSet seen = new BitSet();
    private State state = State.NEW;
    /** The identity the client claimed in HELLO; it owns slabs only once the state is READY. */
    private String identity;
    private byte[] clientNonce;
    private byte[] donorNonce;
    private boolean admitted;
    private boolean refused;
    /** Requests read since the replies were last flushed (each is answered before the next is read). */
    private int inFlight;
    private ScheduledFuture<?> handshakeTimer;
    private String peer = "?";

    public DonorHandler(Donor donor) {
        this.donor = donor;
        this.secret = donor.secret().orElse(null);
        this.maxReadPages = PageBatch.maxPages(donor.maxFrameBytes());
        this.maxInFlight = donor.limits().maxInFlightPerConnection();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        peer = String.valueOf(ctx.channel().remoteAddress());
        long timeout = donor.limits().handshakeTimeout().toNanos();
        handshakeTimer = ctx.executor().schedule(() -> {
            if (state != State.READY) {
                refuse(ctx, "no completed handshake within " + donor.limits().handshakeTimeout().toMillis() + " ms");
            }
        }, timeout, TimeUnit.NANOSECONDS);
        LOG.debug("connection from {}", peer);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        if (admitted) {
            donor.clientLeft();
            donor.ownerGone(identity, ctx.channel());
            LOG.info("client '{}' at {} disconnected", identity, peer);
        }
        super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        if (refused) {
            return;
        }
        long requestId = frame.requestId();
        if (++inFlight == maxInFlight) {
            ctx.channel().config().setAutoRead(false); // on again once the replies are flushed
        }
        try {
            Opcode op = frame.opcode();
            if (isAnswerToEvict(op, requestId)) {
                evictAnswer(op, requestId, frame.body());
                return;
            }
            if (op == null || op.isReply()) {
                throw new ProtocolException(ErrorCode.UNSUPPORTED_OPCODE, String.format(
                        "opcode 0x%02x is not a request", frame.opcodeCode()), false);
            }
            if (state != State.READY) {
                handshake(ctx, op, requestId, frame.body());
                return;
            }
            if (op == Opcode.EVICT) {
                throw new ProtocolException(ErrorCode.UNSUPPORTED_OPCODE, "EVICT is sent by donors, not served",
                        false);
            }
            switch (op) {
                case WRITE_PAGES -> {
                    donor.ownerActive(identity, ctx.channel());
                    writePages(ctx, requestId, batch.wrap(frame, "WRITE_PAGES"));
                }
                case READ_PAGES -> readPages(ctx, requestId, indexes.wrap(frame));
                case HELLO -> throw ProtocolException.badBody("HELLO again on a connection that already said it"
                        + " (as '" + identity + "')");
                case AUTH -> throw ProtocolException.badBody("AUTH on a connection that "
                        + (secret == null ? "needs none (this donor has no cluster secret)" : "is authenticated"));
                case STATS -> {
                    Frames.requireEmpty(frame.body(), "STATS");
                    reply(ctx, Opcode.STATS_OK, requestId, donor.stats());
                }
                case CLIENT_SHARES -> {
                    Frames.requireEmpty(frame.body(), "CLIENT_SHARES");
                    reply(ctx, Opcode.CLIENT_SHARES_OK, requestId, donor.clientShares());
                }
                case ALLOC_SLAB -> {
                    SlabAlloc alloc = SlabAlloc.decode(frame.body());
                    if (donor.headroom().underPressure()) {
                        throw new SlabStoreException(ErrorCode.NO_SPACE, "the donor's host is short of memory"
                                + " (below headroom.evictBelow): no new slabs until it has some to spare");
                    }
                    donor.store().allocate(identity, alloc.slabId(), alloc.slabBytes());
                    donor.ownerActive(identity, ctx.channel());
                    reply(ctx, Opcode.ALLOC_SLAB_OK, requestId, new SlabRef(alloc.slabId()));
                }
                case FREE_SLAB -> {
                    long slabId = SlabRef.decode(frame.body(), "FREE_SLAB").slabId();
                    if (!donor.store().free(identity, slabId)) {
                        throw noSuchSlab(slabId);
                    }
                    donor.headroom().onFreed(new SlabKey(identity, slabId));
                    reply(ctx, Opcode.FREE_SLAB_OK, requestId, new SlabRef(slabId));
                }
                case HEARTBEAT -> reply(ctx, Opcode.HEARTBEAT_OK, requestId, Heartbeat.decode(frame.body()));
                case LIST_SLABS -> {
                    Frames.requireEmpty(frame.body(), "LIST_SLABS");
                    reply(ctx, Opcode.LIST_SLABS_OK, requestId, listSlabs());
                }
                case READ_INDEX -> reply(ctx, Opcode.READ_INDEX_OK, requestId,
                        readIndex(IndexRequest.decode(frame.body())));
                default -> throw new ProtocolException(ErrorCode.UNSUPPORTED_OPCODE, op + " is not served here",
                        false);
            }
        } catch (ProtocolException e) {
            refuseOrAnswer(ctx, requestId, e.code(), e.getMessage());
        } catch (SlabStoreException e) {
            refuseOrAnswer(ctx, requestId, e.code(), e.getMessage());
        } finally {
            batch.clear(); // the receive buffer is the decoder's again
        }
    }

    /** A request before the handshake is complete: HELLO, then AUTH when the donor has a secret. */
    private void handshake(ChannelHandlerContext ctx, Opcode op, long requestId, ByteBuf body) {
        if (state == State.NEW && op == Opcode.HELLO) {
            hello(ctx, requestId, Hello.decode(body));
        } else if (state == State.AWAITING_AUTH && op == Opcode.AUTH) {
            auth(ctx, requestId, AuthProof.decode(body));
        } else if (secret != null) {
            refuse(ctx, op + (state == State.NEW ? " before HELLO" : " before AUTH"));
        } else {
            throw new ProtocolException(ErrorCode.HELLO_REQUIRED, op + " before HELLO", false);
        }
    }

    /** An EVICT_OK or ERROR that answers an EVICT this donor sent (donor request ids have the top bit set). */
    private boolean isAnswerToEvict(Opcode op, long requestId) {
        return (op == Opcode.EVICT_OK || op == Opcode.ERROR) && state == State.READY
                && (requestId & FrameHeader.DONOR_REQUEST_BIT) != 0
                && donor.headroom().isEvictId(requestId & ~FrameHeader.DONOR_REQUEST_BIT);
    }

    /** Answers are not answered: a malformed one is logged, and the slab is kept until its deadline passes. */
    private void evictAnswer(Opcode op, long requestId, ByteBuf body) {
        long id = requestId & ~FrameHeader.DONOR_REQUEST_BIT;
        try {
            if (op == Opcode.EVICT_OK) {
                EvictReply reply = EvictReply.decode(body);
                donor.headroom().onEvictAnswer(identity, id, reply.slabId(), reply.declined(), "", System.nanoTime());
            } else {
                ErrorReply error = ErrorReply.decode(body);
                donor.headroom().onEvictAnswer(identity, id, -1, error.code(), error.message(), System.nanoTime());
            }
        } catch (ProtocolException e) {
            LOG.warn("{} ({}): malformed answer to EVICT {}: {}; the slab is kept until its deadline", peer,
                    identity, id, e.getMessage());
        }
    }

    private void hello(ChannelHandlerContext ctx, long requestId, Hello hello) {
        identity = hello.identity();
        if (hello.protocolVersion() != FrameHeader.VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION, "HELLO asks for protocol version "
                    + hello.protocolVersion() + "; this donor speaks " + FrameHeader.VERSION, false);
        }
        if (secret == null) {
            if (admit(ctx)) {
                reply(ctx, Opcode.HELLO_OK, requestId, donor.helloOk());
            }
            return;
        }
        clientNonce = hello.clientNonce();
        donorNonce = ClusterSecret.freshNonce();
        byte[] proof = secret.donorProof(identity, clientNonce, donorNonce);
        state = State.AWAITING_AUTH;
        reply(ctx, Opcode.HELLO_OK, requestId, donor.helloOk().withAuth(new AuthChallenge(donorNonce, proof)));
    }

    private void auth(ChannelHandlerContext ctx, long requestId, AuthProof proof) {
        byte[] expected = secret.clientProof(identity, clientNonce, donorNonce);
        if (!ClusterSecret.matches(expected, proof.proof())) {
            donor.authFailed();
            refuse(ctx, "AUTH proof does not match the cluster secret");
            return;
        }
        if (admit(ctx)) {
            reply(ctx, Frames.encodeEmpty(ctx.alloc(), Opcode.AUTH_OK, requestId));
        }
    }

    /** The handshake is complete: serve this client, if there is room for one more. */
    private boolean admit(ChannelHandlerContext ctx) {
        if (!donor.tryAdmitClient()) {
            refuse(ctx, "already " + donor.limits().maxClients() + " clients (limits.maxClients)");
            return false;
        }
        admitted = true;
        state = State.READY;
        handshakeTimer.cancel(false);
        LOG.info("client '{}' connected from {}{}", identity, peer, secret != null ? " (authenticated)" : "");
        return true;
    }

    /** Closes the connection without a word to the peer, and logs one line (rate-limited) saying why. */
    private void refuse(ChannelHandlerContext ctx, String reason) {
        if (refused) {
            return;
        }
        refused = true;
        donor.refused("refused " + peer + (identity != null ? " (identity '" + identity + "')" : "") + ": "
                + reason + "; connection closed");
        ctx.close();
    }

    /** An unauthenticated peer of a donor with a secret is refused; anyone else is answered with an ERROR. */
    private void refuseOrAnswer(ChannelHandlerContext ctx, long requestId, ErrorCode code, String message) {
        if (secret != null && state != State.READY) {
            refuse(ctx, message);
            return;
        }
        LOG.debug("{} ({}): request {} refused: {}", peer, identity, requestId, message);
        reply(ctx, Opcode.ERROR, requestId, new ErrorReply(code, message));
    }

    private void writePages(ChannelHandlerContext ctx, long requestId, PageBatch pages) throws SlabStoreException {
        Slab slab = lookup(pages.slabId());
        int n = pages.count();
        // Checksums are verified before the slab is locked: the frame is ours alone, the slab is shared.
        for (int i = 0; i < n; i++) {
            if (pages.version(i) <= 0) {
                throw ProtocolException.badBody("page " + pages.pageIndex(i) + " has version "
                        + Long.toUnsignedString(pages.version(i)) + " (expected 1.." + Long.MAX_VALUE + "; 0 means"
                        + " never written)");
            }
            if (!pages.checksumValid(i)) {
                throw new ProtocolException(ErrorCode.BAD_CHECKSUM, "page " + pages.pageIndex(i) + " of slab "
                        + pages.slabId() + ": CRC32C does not match its data", false);
            }
        }
        synchronized (slab.lock()) {
            requireLive(slab);
            // Check every page before storing any: a refused batch changes nothing.
            try {
                for (int i = 0; i < n; i++) {
                    int index = checkIndex(slab, pages.pageIndex(i));
                    // A page twice in one batch would let the later, possibly older, copy win unseen.
                    if (seen.get(index)) {
                        throw ProtocolException.badBody("page " + index + " of slab " + pages.slabId()
                                + " appears twice in one WRITE_PAGES");
                    }
                    seen.set(index);
                    if (pages.version(i) < slab.version(index)) {
                        throw new ProtocolException(ErrorCode.STALE_VERSION, "page " + index + " of slab "
                                + pages.slabId() + ": version " + pages.version(i) + " is older than the stored "
                                + slab.version(index), false);
                    }
                }
            } finally {
                seen.clear();
            }
            ByteBuf data = pages.buffer();
            for (int i = 0; i < n; i++) {
                slab.store((int) pages.pageIndex(i), pages.version(i), pages.crc(i), data, pages.tagIndex(i), data,
                        pages.dataIndex(i));
            }
            slab.touch(System.nanoTime());
        }
        donor.pagesServed(n);
        reply(ctx, PagesAck.encode(ctx.alloc(), requestId, pages.slabId(), n));
    }

    private void readPages(ChannelHandlerContext ctx, long requestId, PageIndexList wanted)
            throws SlabStoreException {
        int n = wanted.count();
        if (n > maxReadPages) {
            throw ProtocolException.badBody("READ_PAGES asks for " + n + " pages; at most " + maxReadPages
                    + " fit in one reply");
        }
        Slab slab = lookup(wanted.slabId());
        ByteBuf out = ctx.alloc().buffer(PageBatchEncoder.frameSize(n));
        try {
            synchronized (slab.lock()) {
                requireLive(slab);
                for (int i = 0; i < n; i++) {
                    checkIndex(slab, wanted.pageIndex(i));
                }
                encoder.begin(out, Opcode.READ_PAGES_OK, requestId, wanted.slabId());
                for (int i = 0; i < n; i++) {
                    int index = (int) wanted.pageIndex(i);
                    encoder.add(index, slab.version(index), slab.crc(index), slab.pages(), slab.tagIndex(index),
                            slab.pages(), index * FrameHeader.PAGE_SIZE);
                }
                encoder.finish();
                slab.touch(System.nanoTime());
            }
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        donor.pagesServed(n);
        reply(ctx, out);
    }

    private SlabList listSlabs() {
        List<SlabList.Entry> entries = new ArrayList<>();
        for (Slab slab : donor.store().slabsOf(identity)) {
            entries.add(new SlabList.Entry(slab.key().slabId(), slab.sizeBytes()));
        }
        int max = SlabList.maxEntries(donor.maxFrameBytes());
        if (entries.size() > max) {
            throw new ProtocolException(ErrorCode.INTERNAL, "client '" + identity + "' owns " + entries.size()
                    + " slabs here; one reply carries at most " + max, false);
        }
        return new SlabList(entries);
    }

    private PageIndex readIndex(IndexRequest request) throws SlabStoreException {
        int maxPages = PageIndex.maxPages(donor.maxFrameBytes());
        if (request.count() < 1 || request.count() > maxPages) {
            throw ProtocolException.badBody("READ_INDEX asks for " + request.count() + " pages; 1.." + maxPages
                    + " fit in one reply");
        }
        Slab slab = lookup(request.slabId());
        synchronized (slab.lock()) {
            requireLive(slab);
            checkIndex(slab, request.firstPage() + request.count() - 1);
            int n = (int) request.count();
            long[] versions = new long[n];
            int[] crcs = new int[n];
            for (int i = 0; i < n; i++) {
                versions[i] = slab.version((int) request.firstPage() + i);
                crcs[i] = slab.crc((int) request.firstPage() + i);
            }
            return new PageIndex(request.slabId(), request.firstPage(), versions, crcs);
        }
    }

    private Slab lookup(long slabId) throws SlabStoreException {
        Slab slab = donor.store().find(identity, slabId);
        if (slab == null) {
            throw noSuchSlab(slabId);
        }
        return slab;
    }

    private SlabStoreException noSuchSlab(long slabId) {
        return new SlabStoreException(ErrorCode.NO_SUCH_SLAB, "no slab " + slabId + " belongs to client '"
                + identity + "'");
    }

    private static void requireLive(Slab slab) throws SlabStoreException {
        if (slab.isFreed()) {
            throw new SlabStoreException(ErrorCode.NO_SUCH_SLAB, "slab " + slab.key().slabId() + " was freed");
        }
    }

    private static int checkIndex(Slab slab, long pageIndex) {
        if (pageIndex >= slab.pageCount()) {
            throw new ProtocolException(ErrorCode.PAGE_OUT_OF_RANGE, "page " + pageIndex + " outside slab "
                    + slab.key().slabId() + " (" + slab.pageCount() + " pages)", false);
        }
        return (int) pageIndex;
    }

    private void reply(ChannelHandlerContext ctx, Opcode opcode, long requestId, MessageBody body) {
        reply(ctx, Frames.encode(ctx.alloc(), opcode, requestId, body));
    }

    /** Writes the reply to one request; the replies of a read go out with one flush when it completes. */
    private void reply(ChannelHandlerContext ctx, ByteBuf frame) {
        ctx.write(frame, ctx.voidPromise());
    }

    /** Reads on only while both the unflushed replies and the unsent replies are under their limits. */
    private void updateAutoRead(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(ctx.channel().isWritable() && inFlight < maxInFlight);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        inFlight = 0;
        updateAutoRead(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        // Backpressure: a client that does not read its replies stops being read from, instead of growing our
        // outbound buffer without bound.
        updateAutoRead(ctx);
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            LOG.info("{} ({}): no frame for {} ms (limits.idleTimeout); closing", peer, identity,
                    donor.limits().idleTimeout().toMillis());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (secret != null && state != State.READY) {
            refuse(ctx, root instanceof ProtocolException || root instanceof IOException ? root.getMessage()
                    : root.toString());
        } else if (root instanceof ProtocolException pe) {
            LOG.warn("{} ({}): {}; closing the connection", peer, identity, pe.getMessage());
            ctx.writeAndFlush(Frames.encode(ctx.alloc(), Opcode.ERROR, 0, new ErrorReply(pe.code(),
                    pe.getMessage()))).addListener(ChannelFutureListener.CLOSE);
        } else if (root instanceof IOException) {
            LOG.debug("{} ({}): {}", peer, identity, root.toString());
            ctx.close();
        } else {
            LOG.warn("{} ({}): unexpected failure; closing the connection", peer, identity, root);
            ctx.close();
        }
    }
}
