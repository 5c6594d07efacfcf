package dev.valet.client.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the transmission phase's requests straight into the connection's slots, with no allocation per request:
 * a request's 28-byte header is gathered in one preallocated buffer, a WRITE's data is copied into its slot as it
 * arrives. When every slot is busy the decoder keeps the bytes it has, stops reading from the socket, and goes on
 * when {@link NbdRequestHandler} frees a slot (backpressure). A request header without the request magic cannot be
 * resynchronised: the connection is closed.
 */
final class NbdRequestDecoder extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(NbdRequestDecoder.class);
    /** A bad WRITE's data is read and dropped up to this; a longer one closes the connection. */
    static final long MAX_DISCARD_BYTES = 64L << 20;

    private final NbdRequestHandler handler;
    private final ByteBuf header = Unpooled.buffer(NbdProtocol.REQUEST_BYTES);
    private ChannelHandlerContext ctx;
    /** The WRITE whose data is arriving, or null. */
    private NbdSlot filling;
    private int filled;
    /** The bad WRITE whose data is being dropped, or null. */
    private NbdSlot discarding;
    private long toDiscard;
    /** Bytes received while every slot was busy. */
    private ByteBuf stalled;
    private boolean stopped;

    NbdRequestDecoder(NbdRequestHandler handler) {
        this.handler = handler;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
        handler.attach(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (stopped) {
            in.release();
            return;
        }
        if (stalled != null) {
            stalled = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(context.alloc(), stalled, in);
            return;
        }
        consume(in);
    }

    /** A slot is free again: goes on with the bytes kept while none was. */
    void resume() {
        if (stalled == null || stopped) {
            return;
        }
        ByteBuf in = stalled;
        stalled = null;
        consume(in);
    }

    /** No more requests after NBD_CMD_DISC, a protocol violation or the end of the connection. */
    void stop() {
        stopped = true;
        if (stalled != null) {
            stalled.release();
            stalled = null;
        }
        ctx.channel().config().setAutoRead(false);
    }

    private void consume(ByteBuf in) {
        boolean keep = false;
        try {
            keep = decode(in);
        } finally {
            if (keep) {
                stalled = in;
                ctx.channel().config().setAutoRead(false);
            } else {
                in.release();
                if (!stopped) {
                    ctx.channel().config().setAutoRead(true);
                }
            }
        }
    }

    /** Decodes what it can; true when it stopped for want of a slot and {@code in} must be kept. */
    private boolean decode(ByteBuf in) {
        while (!stopped) {
            if (filling != null) {
                if (!in.isReadable()) {
                    return false;
                }
                int n = (int) Math.min(in.readableBytes(), filling.length - filled);
                in.readBytes(filling.region, 16 + filled, n);
                filled += n;
                if (filled == filling.length) {
                    NbdSlot slot = filling;
                    filling = null;
                    handler.writeArrived(slot);
                }
            } else if (discarding != null) {
                if (!in.isReadable()) {
                    return false;
                }
                int n = (int) Math.min(in.readableBytes(), toDiscard);
                in.skipBytes(n);
                toDiscard -= n;
                if (toDiscard == 0) {
                    NbdSlot slot = discarding;
                    discarding = null;
                    handler.submit(slot);
                }
            } else if (header.writableBytes() > 0) {
                if (!in.isReadable()) {
                    return false;
                }
                in.readBytes(header, Math.min(in.readableBytes(), header.writableBytes()));
            } else if (!request()) {
                return true;
            }
        }
        return false;
    }

    /** Starts the request whose header is complete; false when no slot is free. */
    private boolean request() {
        if (header.getInt(0) != NbdProtocol.REQUEST_MAGIC) {
            LOG.debug("nbd {}: bad request magic 0x{}: closing", ctx.channel().remoteAddress(),
                    Integer.toHexString(header.getInt(0)));
            handler.violation();
            return true;
        }
        int type = header.getUnsignedShort(6);
        if (type == NbdProtocol.CMD_DISC) {
            header.clear();
            handler.disconnect();
            return true;
        }
        long length = header.getUnsignedInt(24);
        NbdSlot slot = handler.acquire(type, length);
        if (slot == null) {
            return false;
        }
        slot.start(header.getLong(8), type, header.getUnsignedShort(4), header.getLong(16), length);
        header.clear();
        if (type != NbdProtocol.CMD_WRITE) {
            handler.submit(slot);
        } else if (handler.check(slot) == 0) {
            filling = slot;
            filled = 0;
        } else if (length > MAX_DISCARD_BYTES) {
            handler.violation();
        } else if (length == 0) {
            handler.submit(slot);
        } else {
            discarding = slot;
            toDiscard = length;
        }
        return true;
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        stop();
        header.release();
        handler.closed();
        context.fireChannelInactive();
    }

    /**
     * A connection that failed (reset, broken pipe) is closed; any other exception is a bug here, also passed on to
     * the end of the pipeline (logged there by {@link NbdServer}, recorded by a test's embedded channel).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        LOG.debug("nbd {}: {}", context.channel().remoteAddress(), cause.toString());
        context.close();
        if (!(cause instanceof java.io.IOException)) {
            context.fireExceptionCaught(cause);
        }
    }
}
