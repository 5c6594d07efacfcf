package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * One decoded frame: its opcode, request id and body. Either the frame owns its body (a retained slice of the receive
 * buffer, released with the frame: what {@link FrameDecoder} hands on by default), or it is the one reused frame of a
 * decoder that hands frames on in place ({@link FrameDecoder#inPlace}): then it points into the receive buffer, is
 * valid only while the handler that receives it runs, and cannot be retained (copy what must outlive it).
 */
public final class Frame implements ReferenceCounted {
    private int opcodeCode;
    private long requestId;
    /** The body's own retained slice, or the receive buffer the body lies in. */
    private ByteBuf buffer;
    private int bodyIndex;
    private int bodyLength;
    private final boolean owned;

    /** A frame that owns {@code body} (from its reader index to its writer index) and releases it with itself. */
    public Frame(int opcodeCode, long requestId, ByteBuf body) {
        this.owned = true;
        this.opcodeCode = opcodeCode;
        this.requestId = requestId;
        this.buffer = body;
        this.bodyIndex = body.readerIndex();
        this.bodyLength = body.readableBytes();
    }

    /** A frame to reuse: {@link #point} sets it to each frame in turn. */
    Frame() {
        this.owned = false;
    }

    /**
     * Points this reused frame at a frame whose body is {@code bodyLength} bytes at {@code bodyIndex} of {@code in}.
     */
    Frame point(int opcodeCode, long requestId, ByteBuf in, int bodyIndex, int bodyLength) {
        this.opcodeCode = opcodeCode;
        this.requestId = requestId;
        this.buffer = in;
        this.bodyIndex = bodyIndex;
        this.bodyLength = bodyLength;
        return this;
    }

    /** The opcode, or {@code null} when the wire byte names none (see {@link #opcodeCode()}). */
    public Opcode opcode() {
        return Opcode.fromCode(opcodeCode);
    }

    public int opcodeCode() {
        return opcodeCode;
    }

    public long requestId() {
        return requestId;
    }

    /**
     * The body; its reader index is at the body's first byte. For a reused frame a new slice per call: decode
     * control messages with it; pages are read in place ({@link #buffer}, {@link #bodyIndex}, {@link #bodyLength}).
     */
    public ByteBuf body() {
        return owned ? buffer : buffer.slice(bodyIndex, bodyLength);
    }

    /** The buffer the body lies in, at absolute index {@link #bodyIndex}. */
    public ByteBuf buffer() {
        return buffer;
    }

    public int bodyIndex() {
        return bodyIndex;
    }

    public int bodyLength() {
        return bodyLength;
    }

    @Override
    public int refCnt() {
        return owned ? buffer.refCnt() : 1;
    }

    @Override
    public Frame retain() {
        return retain(1);
    }

    @Override
    public Frame retain(int increment) {
        if (!owned) {
            throw new UnsupportedOperationException("a frame handed on in place cannot be kept; copy its body");
        }
        buffer.retain(increment);
        return this;
    }

    @Override
    public Frame touch() {
        return this;
    }

    @Override
    public Frame touch(Object hint) {
        if (owned) {
            buffer.touch(hint);
        }
        return this;
    }

    @Override
    public boolean release() {
        return release(1);
    }

    @Override
    public boolean release(int decrement) {
        return owned && buffer.release(decrement);
    }

    @Override
    public String toString() {
        Opcode op = opcode();
        return "Frame[" + (op != null ? op : "0x" + Integer.toHexString(opcodeCode)) + " #" + requestId
                + ", " + bodyLength + " body bytes]";
    }
}
