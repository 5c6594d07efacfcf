package dev.valet.client.transport.rdma;

import dev.valet.client.transport.DonorControl;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.RequestTiming;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.ProtocolException;
import dev.valet.common.rdma.FrameChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.IOException;
import java.time.Duration;
import java.util.function.Function;

/**
 * Control requests over one queue pair's SEND/RECV channel, one at a time on the connection's thread: a request
 * frame is sent and the thread waits for its reply, still taking every other completion meanwhile (page requests
 * go on). Replies are checked as over TCP: the request id here, then {@link DonorControl#refusal} (ERROR as a
 * {@link DonorException}, any other opcode than the request's reply a protocol error).
 */
final class ControlFrames {
    /** The largest control reply taken; HELLO_OK is capped to it so the engine never asks for more. */
    static final int REPLY_BYTES = 1024 * 1024;
    static final int REQUEST_BYTES = 64 * 1024;

    /** Takes completions, waiting at most until {@code deadlineNanos} for some. */
    interface Pump {
        void pump(long deadlineNanos) throws IOException;
    }

    /** No completion arrived in time: the donor (or this host) may only be slow. */
    static final class CompletionTimeout extends IOException {
        private static final long serialVersionUID = 1L;

        CompletionTimeout(String message) {
            super(message);
        }
    }

    private final DonorAddress address;
    private final FrameChannel frames;
    private final Pump pump;
    private final RequestTiming timing;
    private long nextRequestId = 1;
    /** The receive buffer holding the awaited reply, or -1. */
    private int replyIndex = -1;
    private int replyLength;
    private boolean replyAwaited;
    /** A SEND not completed yet: the one send buffer is still in use. */
    private boolean sendPending;

    ControlFrames(DonorAddress address, FrameChannel frames, Pump pump, RequestTiming timing) {
        this.address = address;
        this.frames = frames;
        this.pump = pump;
        this.timing = timing;
    }

    /** Sends request {@code opcode} and returns its reply's body, decoded. */
    <T> T call(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode, Duration timeout) throws IOException {
        long requestId = nextRequestId++;
        ByteBuf out;
        if (body != null) {
            out = Frames.encode(UnpooledByteBufAllocator.DEFAULT, opcode, requestId, body);
        } else {
            out = UnpooledByteBufAllocator.DEFAULT.heapBuffer(FrameHeader.SIZE);
            Frames.finish(out, Frames.begin(out, opcode, requestId));
        }
        long sentNanos = System.nanoTime();
        try {
            send(out, timeout);
        } finally {
            out.release();
        }
        replyIndex = -1;
        replyAwaited = true;
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (replyIndex < 0) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new CompletionTimeout("no reply to " + opcode + " within " + timeout.toMillis() + " ms");
                }
                pump.pump(deadline);
            }
        } finally {
            replyAwaited = false;
        }
        timing.answered(opcode.reply(), sentNanos, System.nanoTime());
        int index = replyIndex;
        replyIndex = -1;
        try {
            return reply(frames.received(index, replyLength), requestId, opcode.reply(), decode);
        } finally {
            frames.repost(index);
        }
    }

    private <T> T reply(ByteBuf in, long requestId, Opcode expected, Function<ByteBuf, T> decode)
            throws IOException {
        try {
            String problem = frameProblem(in);
            if (problem != null) {
                throw new IOException("malformed reply frame (" + in.readableBytes() + " bytes): " + problem);
            }
            if (in.getLong(FrameHeader.REQUEST_ID_OFFSET) != requestId) {
                throw new IOException("reply to request " + in.getLong(FrameHeader.REQUEST_ID_OFFSET)
                        + ", expected " + requestId);
            }
            ByteBuf body = in.slice(FrameHeader.SIZE, in.readableBytes() - FrameHeader.SIZE);
            DonorException refusal = DonorControl.refusal(address, in.getUnsignedByte(FrameHeader.OPCODE_OFFSET),
                    expected, body);
            if (refusal != null) {
                throw refusal;
            }
            return decode.apply(body);
        } catch (ProtocolException e) {
            throw new IOException("malformed reply: " + e.getMessage(), e);
        }
    }

    /** SENDs one frame, once the send buffer is free (the previous SEND completed). */
    void send(ByteBuf frame, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sendPending) {
            if (System.nanoTime() - deadline >= 0) {
                throw new CompletionTimeout("no completion of a SEND within " + timeout.toMillis() + " ms");
            }
            pump.pump(deadline);
        }
        frames.send(frame);
        sendPending = true;
    }

    /** The SEND completed. */
    void sent() {
        sendPending = false;
    }

    /**
     * A frame that is not the donor's own request arrived in receive buffer {@code index}: the awaited reply, kept
     * until {@link #call} has read it; anything else is a protocol error.
     */
    void received(int index, int length, ByteBuf in) throws IOException {
        if (!replyAwaited || replyIndex >= 0) {
            frames.repost(index);
            String problem = frameProblem(in);
            throw new IOException("unexpected frame from the donor (" + length + " bytes, "
                    + (problem == null ? "opcode " + in.getUnsignedByte(FrameHeader.OPCODE_OFFSET) : problem) + ")");
        }
        replyIndex = index;
        replyLength = length;
    }

    /** Null if {@code in} is one whole frame of this protocol version, else what is wrong with it. */
    static String frameProblem(ByteBuf in) {
        if (in.readableBytes() < FrameHeader.SIZE) {
            return "shorter than a frame header";
        }
        try {
            int frameBytes = FrameHeader.checkHeader(in, 0, REPLY_BYTES);
            return frameBytes == in.readableBytes() ? null
                    : "its header says " + frameBytes + " bytes, " + in.readableBytes() + " arrived";
        } catch (ProtocolException e) {
            return e.getMessage();
        }
    }
}
