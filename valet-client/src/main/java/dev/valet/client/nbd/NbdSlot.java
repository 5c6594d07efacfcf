package dev.valet.client.nbd;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

/**
 * One request in flight on a connection, preallocated and reused: its part of the connection's buffer (a 16-byte
 * reply header, then up to the largest request's data), the request's fields, and the callbacks that carry it
 * through the engine ({@link PageIoDone}, on any thread), back onto the event loop ({@link Runnable}) and out
 * through the socket ({@link ChannelFutureListener}: the slot is free once its reply is written).
 */
final class NbdSlot implements PageIoDone, Runnable, ChannelFutureListener {
    final NbdRequestHandler handler;
    /** Bytes 0-15: the reply header; from 16: the data of a READ or WRITE. */
    final ByteBuf region;
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

    NbdSlot(NbdRequestHandler handler, ByteBuf region) {
        this.handler = handler;
        this.region = region;
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

    /** The reply has been written (or the connection failed): the slot is free. */
    @Override
    public void operationComplete(ChannelFuture future) {
        handler.replySent(this);
    }
}
