package dev.valet.client.nbd;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;

/**
 * One request in flight on a connection, preallocated and reused: its buffer (a 16-byte reply header, then up to the
 * largest request's data), the request's fields, and the callbacks that carry it through the engine
 * ({@link PageIoDone}, on any thread) and back onto the event loop ({@link Runnable}). The reply goes out from the
 * buffer itself, and the slot is free again when the socket is done with it ({@link Buffer}).
 */
final class NbdSlot implements PageIoDone, Runnable {
    final NbdRequestHandler handler;
    /** Bytes 0-15: the reply header; from 16: the data of a READ or WRITE. */
    final Buffer region;
    long cookie;
    int type;
    int flags;
    long offset;
    /** Unsigned 32 bits. */
    long length;
    /** For writes, their order on the connection; for a FLUSH, the first write it does not wait for. */
    long seq;
    boolean busy;
    boolean writing;
    boolean flushWaiting;
    /** TRIM and WRITE_ZEROES: the next page to zero and the page after the last. */
    long zeroNext;
    long zeroEnd;
    private volatile Throwable error;
    /** Frees the slot, on the event loop after the write that released its buffer (see {@link Buffer}). */
    private final Runnable replySent;

    NbdSlot(NbdRequestHandler handler, int capacity) {
        this.handler = handler;
        this.region = new Buffer(this, capacity);
        this.replySent = () -> handler.replySent(this);
    }

    void start(long cookie, int type, int flags, long offset, long length) {
        this.cookie = cookie;
        this.type = type;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.busy = true;
        this.writing = false;
        this.flushWaiting = false;
        this.error = null;
    }

    /** The engine's answer, on whichever thread: back to the event loop. */
    @Override
    public void pageIoDone(Throwable failure) {
        error = failure;
        handler.eventLoopExecute(this);
    }

    /** On the event loop, after {@link #pageIoDone}. */
    @Override
    public void run() {
        Throwable failure = error;
        error = null;
        handler.pageIoDone(this, failure);
    }

    /**
     * A slot's direct buffer, written to the socket as the reply itself: netty releases a message once the next
     * handler or the socket has taken its bytes (or drops it with a closed connection), and the last release,
     * instead of freeing the memory, makes the buffer the slot's again and frees the slot, in a task of its own (the
     * release comes in the middle of a write, where a new request must not start). So a reply costs no promise, no
     * listener and no copy. {@link #free} returns the memory when the connection is done.
     */
    static final class Buffer extends UnpooledDirectByteBuf {
        private final NbdSlot slot;

        Buffer(NbdSlot slot, int capacity) {
            super(UnpooledByteBufAllocator.DEFAULT, capacity, capacity);
            this.slot = slot;
        }

        @Override
        protected void deallocate() {
            resetRefCnt();
            slot.handler.eventLoopExecute(slot.replySent);
        }

        /** Frees the memory; the buffer is not used again. */
        void free() {
            super.deallocate();
        }
    }
}
