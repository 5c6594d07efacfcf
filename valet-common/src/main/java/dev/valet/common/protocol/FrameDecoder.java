package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Cuts the byte stream into {@link Frame}s. The header is checked (magic, version, length within the cap) before
 * the body is buffered, so a hostile length never makes us allocate. A bad header loses the frame boundary: the
 * decoder then throws a fatal {@link ProtocolException} and discards everything that follows; the handler
 * answers with an error and closes. An unknown opcode inside a good frame is passed on (the handler answers it).
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;
    /** The one frame handed on in place, or null: a new frame with its own retained body per frame. */
    private final Frame reused;
    /** Whether a frame was handed on in place since the last read completed (netty's own flag sees none). */
    private boolean handedOn;
    private boolean broken;

    /**
     * Hands on a new {@link Frame} per frame, owning a retained slice of the body (the next handler may keep it).
     *
     * @param maxFrameBytes the largest whole frame (header included) this side accepts
     */
    public FrameDecoder(int maxFrameBytes) {
        this(maxFrameBytes, false);
    }

    private FrameDecoder(int maxFrameBytes, boolean inPlace) {
        if (maxFrameBytes < FrameHeader.SIZE) {
            throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes + " < header size " + FrameHeader.SIZE);
        }
        this.maxFrameBytes = maxFrameBytes;
        this.reused = inPlace ? new Frame() : null;
    }

    /**
     * A decoder that allocates nothing per frame: it hands on one reused {@link Frame} pointing into the receive
     * buffer, straight to the next handler, which must be done with it when its {@code channelRead} returns. The
     * handler may turn auto-read off (backpressure): a read that handed frames on does not ask for another.
     */
    public static FrameDecoder inPlace(int maxFrameBytes) {
        return new FrameDecoder(maxFrameBytes, true);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < FrameHeader.SIZE) {
            return;
        }
        int start = in.readerIndex();
        int frameBytes;
        try {
            frameBytes = FrameHeader.checkHeader(in, start, maxFrameBytes);
        } catch (ProtocolException e) {
            broken = true;
            throw e;
        }
        if (in.readableBytes() < frameBytes) {
            return;
        }
        int opcode = in.getUnsignedByte(start + FrameHeader.OPCODE_OFFSET);
        long requestId = in.getLong(start + FrameHeader.REQUEST_ID_OFFSET);
        if (reused != null) {
            // Handed on now, while the bytes are where the frame points (once decode returns, the receive buffer
            // may be released before netty hands on what this adds to out).
            handedOn = true;
            ctx.fireChannelRead(reused.point(opcode, requestId, in, start + FrameHeader.BODY_OFFSET,
                    frameBytes - FrameHeader.SIZE));
            in.readerIndex(start + frameBytes);
            return;
        }
        ByteBuf body = in.retainedSlice(start + FrameHeader.BODY_OFFSET, frameBytes - FrameHeader.SIZE);
        in.skipBytes(frameBytes);
        out.add(new Frame(opcode, requestId, body));
    }

    /**
     * In place, what {@link ByteToMessageDecoder#channelReadComplete} does, except that frames handed on from
     * {@link #decode} count as read: netty's version sees nothing added to its output list and, with auto-read off,
     * would ask for another read, defeating the next handler's backpressure.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (reused == null) {
            super.channelReadComplete(ctx);
            return;
        }
        discardSomeReadBytes();
        if (!handedOn && !ctx.channel().config().isAutoRead()) {
            ctx.read(); // a partial frame and no frame handed on: read on, or the frame never completes
        }
        handedOn = false;
        ctx.fireChannelReadComplete();
    }
}
