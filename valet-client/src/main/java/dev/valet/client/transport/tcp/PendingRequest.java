package dev.valet.client.transport.tcp;

import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.Opcode;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** A request waiting for its reply: what the reply must be, when it is due, and who is told. */
abstract class PendingRequest {
    long id;
    Opcode expected;
    long sentNanos;
    long deadlineNanos;

    /** The expected reply arrived: decode it and tell the caller; a malformed body throws before anyone is told. */
    abstract void replied(Frame frame);

    /** The request failed (refused, late, connection lost): tell the caller. */
    abstract void failed(Throwable cause);

    /** A request whose caller waits on a future: control requests, off the I/O path (each allocates). */
    static final class Awaited<T> extends PendingRequest {
        final CompletableFuture<T> future = new CompletableFuture<>();
        private final Function<Frame, T> decode;

        Awaited(Opcode expected, Function<Frame, T> decode) {
            this.expected = expected;
            this.decode = decode;
        }

        @Override
        void replied(Frame frame) {
            future.complete(decode.apply(frame));
        }

        @Override
        void failed(Throwable cause) {
            future.completeExceptionally(cause);
        }
    }
}
