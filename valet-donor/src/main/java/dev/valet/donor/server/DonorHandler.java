package dev.valet.donor.server;

import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
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
import dev.valet.donor.store.SlabStoreException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Serves one client connection: HELLO first (fixing the identity that owns every slab this connection touches),
 * then slab and page requests, each answered in order with its reply or a typed ERROR. Malformed bodies get an
 * error and change nothing; a broken frame header gets an error and the connection is closed.
 */
public final class DonorHandler extends SimpleChannelInboundHandler<Frame> {
    private static final Logger LOG = LoggerFactory.getLogger(DonorHandler.class);

    private final Donor donor;
    private final PageBatch batch = new PageBatch();
    private final PageIndexList indexes = new PageIndexList();
    private final PageBatchEncoder encoder = new PageBatchEncoder();
    private final int maxReadPages;
    /** Page indexes already met in the batch being checked; cleared after each batch. */
    private final BitSet seen = new BitSet();
    private String identity;
    private String peer = "?";

    public DonorHandler(Donor donor) {
        this.donor = donor;
        this.maxReadPages = PageBatch.maxPages(donor.maxFrameBytes());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        peer = String.valueOf(ctx.channel().remoteAddress());
        LOG.debug("connection from {}", peer);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (identity != null) {
            donor.clientLeft();
            LOG.info("client '{}' at {} disconnected", identity, peer);
        }
        super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        long requestId = frame.requestId();
        try {
            Opcode op = frame.opcode();
            if (op == null || op.isReply()) {
                throw new ProtocolException(ErrorCode.UNSUPPORTED_OPCODE, String.format(
                        "opcode 0x%02x is not a request", frame.opcodeCode()), false);
            }
            if (op != Opcode.HELLO && identity == null) {
                throw new ProtocolException(ErrorCode.HELLO_REQUIRED, op + " before HELLO", false);
            }
            ByteBuf body = frame.body();
            switch (op) {
                case HELLO -> hello(ctx, requestId, Hello.decode(body));
                case STATS -> {
                    Frames.requireEmpty(body, "STATS");
                    reply(ctx, Opcode.STATS_OK, requestId, donor.stats());
                }
                case ALLOC_SLAB -> {
                    SlabAlloc alloc = SlabAlloc.decode(body);
                    donor.store().allocate(identity, alloc.slabId(), alloc.slabBytes());
                    reply(ctx, Opcode.ALLOC_SLAB_OK, requestId, new SlabRef(alloc.slabId()));
                }
                case FREE_SLAB -> {
                    long slabId = SlabRef.decode(body, "FREE_SLAB").slabId();
                    if (!donor.store().free(identity, slabId)) {
                        throw noSuchSlab(slabId);
                    }
                    reply(ctx, Opcode.FREE_SLAB_OK, requestId, new SlabRef(slabId));
                }
                case WRITE_PAGES -> writePages(ctx, requestId, batch.wrap(body, "WRITE_PAGES"));
                case READ_PAGES -> readPages(ctx, requestId, indexes.wrap(body));
                case HEARTBEAT -> reply(ctx, Opcode.HEARTBEAT_OK, requestId, Heartbeat.decode(body));
                case LIST_SLABS -> {
                    Frames.requireEmpty(body, "LIST_SLABS");
                    reply(ctx, Opcode.LIST_SLABS_OK, requestId, listSlabs());
                }
                case READ_INDEX -> reply(ctx, Opcode.READ_INDEX_OK, requestId, readIndex(IndexRequest.decode(body)));
                default -> throw new ProtocolException(ErrorCode.UNSUPPORTED_OPCODE, op + " is not served here",
                        false);
            }
        } catch (ProtocolException e) {
            LOG.debug("{} ({}): request {} refused: {}", peer, identity, requestId, e.getMessage());
            reply(ctx, Opcode.ERROR, requestId, new ErrorReply(e.code(), e.getMessage()));
        } catch (SlabStoreException e) {
            LOG.debug("{} ({}): request {} refused: {}", peer, identity, requestId, e.getMessage());
            reply(ctx, Opcode.ERROR, requestId, new ErrorReply(e.code(), e.getMessage()));
        }
    }

    private void hello(ChannelHandlerContext ctx, long requestId, Hello hello) {
        if (identity != null) {
            throw ProtocolException.badBody("HELLO again on a connection that already said it (as '" + identity
                    + "')");
        }
        if (hello.protocolVersion() != FrameHeader.VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION, "HELLO asks for protocol version "
                    + hello.protocolVersion() + "; this donor speaks " + FrameHeader.VERSION, false);
        }
        identity = hello.identity();
        donor.clientJoined();
        LOG.info("client '{}' connected from {}", identity, peer);
        reply(ctx, Opcode.HELLO_OK, requestId, donor.helloOk());
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
                slab.store((int) pages.pageIndex(i), pages.version(i), pages.crc(i), data, pages.dataIndex(i));
            }
            slab.touch(System.nanoTime());
        }
        donor.pagesServed(n);
        reply(ctx, Opcode.WRITE_PAGES_OK, requestId, new PagesAck(pages.slabId(), n));
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
                    encoder.add(index, slab.version(index), slab.crc(index), slab.pages(),
                            index * FrameHeader.PAGE_SIZE);
                }
                encoder.finish();
                slab.touch(System.nanoTime());
            }
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        donor.pagesServed(n);
        ctx.write(out, ctx.voidPromise());
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

    private static void reply(ChannelHandlerContext ctx, Opcode opcode, long requestId, MessageBody body) {
        ctx.write(Frames.encode(ctx.alloc(), opcode, requestId, body), ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        // Backpressure: a client that does not read its replies stops being read from, instead of growing our
        // outbound buffer without bound.
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof ProtocolException pe) {
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
