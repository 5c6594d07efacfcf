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
    private boolean broken;

    /** @param maxFrameBytes the largest whole frame (header included) this side accepts */
    public FrameDecoder(int maxFrameBytes) {
        if (maxFrameBytes < FrameHeader.SIZE) {
            throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes + " < header size " + FrameHeader.SIZE);
        }
        this.maxFrameBytes = maxFrameBytes;
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
        ByteBuf body = in.retainedSlice(start + FrameHeader.BODY_OFFSET, frameBytes - FrameHeader.SIZE);
        in.skipBytes(frameBytes);
        out.add(new Frame(opcode, requestId, body));
    }
}
