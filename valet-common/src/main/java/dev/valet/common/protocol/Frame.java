package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import io.netty.util.AbstractReferenceCounted;

/**
 * One decoded frame: its opcode, request id and body. The body is a retained slice of the receive buffer; the
 * frame owns it until {@link #release()}.
 */
public final class Frame extends AbstractReferenceCounted {
    private final int opcodeCode;
    private final long requestId;
    private final ByteBuf body;

    public Frame(int opcodeCode, long requestId, ByteBuf body) {
        this.opcodeCode = opcodeCode;
        this.requestId = requestId;
        this.body = body;
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

    /** The body; its reader index is at the body's first byte. */
    public ByteBuf body() {
        return body;
    }

    @Override
    protected void deallocate() {
        body.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        body.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        Opcode op = opcode();
        return "Frame[" + (op != null ? op : "0x" + Integer.toHexString(opcodeCode)) + " #" + requestId
                + ", " + body.readableBytes() + " body bytes]";
    }
}
