package dev.valet.client.nbd;

import dev.valet.client.kernel.PageStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one connection's requests from the page store, with simple replies that may go out of order. Owns the
 * connection's slots and their direct buffers, allocated when the transmission phase starts and freed when the
 * connection is closed and the store has answered every request it was given (it may still be writing into a slot). A
 * request not aligned to 4096 bytes, too long, or with an unknown command or flag gets EINVAL and changes
 * nothing; one past the end gets EINVAL (READ) or ENOSPC (writes). A write is acknowledged only when the store
 * has acknowledged it, which for the engine means its copies have it, so FUA needs nothing more and a FLUSH is
 * answered once every write received before it on this connection has been answered. Runs on the channel's
 * event loop, except {@link NbdSlot#pageIoDone}.
 */
final class NbdRequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(NbdRequestHandler.class);
    /** Zero pages that TRIM and WRITE_ZEROES write from: never written into, shared by every connection. */
    private static final int ZERO_PAGES = 64;
    private static final ByteBuf ZEROES = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(ZERO_PAGES * NbdProtocol.PAGE).writeZero(ZERO_PAGES * NbdProtocol.PAGE));

    private final Channel channel;
    private final NbdExport export;
    private final PageStore store;
    private final NbdSlot[] slots;
    private NbdRequestDecoder decoder;
    private int busy;
    private long nextWriteSeq;
    /** FLUSHes waiting for earlier writes: while none, a write's answer needs no look at the slots. */
    private int flushesWaiting;
    private boolean disconnecting;
    private boolean closing;
    private boolean closed;
    private boolean released;

    NbdRequestHandler(Channel channel, NbdExport export, PageStore store) {
        this.channel = channel;
        this.export = export;
        this.store = store;
        this.slots = new NbdSlot[export.smallSlots() + export.slots()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new NbdSlot(this, NbdProtocol.REPLY_BYTES
                    + (i < export.smallSlots() ? NbdExport.SMALL_REQUEST_BYTES : export.maxRequestBytes()));
        }
    }

    void attach(NbdRequestDecoder requestDecoder) {
        this.decoder = requestDecoder;
    }

    /**
     * A free slot for a request of {@code type} and {@code length}, or null when none is free: a small slot when the
     * request fits one, else (or when every small slot is busy) one of the slots that take any request.
     */
    NbdSlot acquire(int type, long length) {
        if (busy == slots.length) {
            return null;
        }
        int from = export.fitsSmallSlot(type, length) ? 0 : export.smallSlots();
        for (int i = from; i < slots.length; i++) {
            NbdSlot slot = slots[i];
            if (!slot.busy) {
                busy++;
                slot.busy = true;
                return slot;
            }
        }
        return null;
    }

    /** The error a request gets before it touches the store, or 0 when it may go ahead. */
    int check(NbdSlot slot) {
        if ((slot.flags & ~NbdProtocol.CMD_FLAGS_KNOWN) != 0) {
            return NbdProtocol.EINVAL;
        }
        boolean writes = slot.type == NbdProtocol.CMD_WRITE || slot.type == NbdProtocol.CMD_TRIM
                || slot.type == NbdProtocol.CMD_WRITE_ZEROES;
        if (slot.type == NbdProtocol.CMD_FLUSH) {
            return 0;
        }
        if (!writes && slot.type != NbdProtocol.CMD_READ) {
            return NbdProtocol.EINVAL;
        }
        boolean carriesData = slot.type == NbdProtocol.CMD_READ || slot.type == NbdProtocol.CMD_WRITE;
        if (slot.length == 0 || slot.length % NbdProtocol.PAGE != 0 || slot.offset % NbdProtocol.PAGE != 0
                || carriesData && slot.length > export.maxRequestBytes()) {
            return NbdProtocol.EINVAL;
        }
        if (slot.offset < 0 || slot.offset > export.size() - slot.length) {
            return writes ? NbdProtocol.ENOSPC : NbdProtocol.EINVAL;
        }
        return 0;
    }

    /** A request without data, or a WRITE whose data was dropped: checks it and starts it. */
    void submit(NbdSlot slot) {
        int error = check(slot);
        if (error == 0 && slot.type == NbdProtocol.CMD_WRITE) {
            error = NbdProtocol.EINVAL;
        }
        if (error != 0) {
            reply(slot, error, false);
            return;
        }
        switch (slot.type) {
            case NbdProtocol.CMD_READ -> {
                try {
                    store.read(slot.offset / NbdProtocol.PAGE, (int) (slot.length / NbdProtocol.PAGE), slot.region,
                            NbdProtocol.REPLY_BYTES, slot);
                } catch (RuntimeException e) {
                    slot.pageIoDone(e);
                }
            }
            case NbdProtocol.CMD_FLUSH -> {
                slot.seq = nextWriteSeq;
                slot.flushWaiting = true;
                flushesWaiting++;
                answerFlushes();
            }
            default -> {
                startWrite(slot);
                slot.zeroNext = slot.offset / NbdProtocol.PAGE;
                slot.zeroEnd = slot.zeroNext + slot.length / NbdProtocol.PAGE;
                zeroNext(slot);
            }
        }
    }

    /** A checked WRITE whose data is in its slot. */
    void writeArrived(NbdSlot slot) {
        startWrite(slot);
        try {
            store.write(slot.offset / NbdProtocol.PAGE, (int) (slot.length / NbdProtocol.PAGE), slot.region,
                    NbdProtocol.REPLY_BYTES, slot);
        } catch (RuntimeException e) {
            slot.pageIoDone(e);
        }
    }

    private void startWrite(NbdSlot slot) {
        slot.writing = true;
        slot.seq = nextWriteSeq++;
    }

    /** TRIM and WRITE_ZEROES: the next chunk of zero pages, one store call at a time. */
    private void zeroNext(NbdSlot slot) {
        int count = (int) Math.min(ZERO_PAGES, slot.zeroEnd - slot.zeroNext);
        long first = slot.zeroNext;
        slot.zeroNext += count;
        try {
            store.write(first, count, ZEROES, 0, slot);
        } catch (RuntimeException e) {
            slot.pageIoDone(e);
        }
    }

    void eventLoopExecute(Runnable task) {
        channel.eventLoop().execute(task);
    }

    /** The store's answer to a slot's call, on the event loop. */
    void pageIoDone(NbdSlot slot, Throwable error) {
        if (error != null) {
            LOG.warn("nbd {}: command {} at offset {} length {} failed: {}", channel.remoteAddress(), slot.type,
                    slot.offset, slot.length, error.toString());
        }
        if (error == null && slot.writing && slot.zeroNext < slot.zeroEnd) {
            zeroNext(slot);
            return;
        }
        boolean wasWrite = slot.writing;
        slot.writing = false;
        reply(slot, error == null ? 0 : NbdProtocol.EIO, error == null && slot.type == NbdProtocol.CMD_READ);
        if (wasWrite && flushesWaiting != 0) {
            answerFlushes();
        }
    }

    /** Answers each waiting FLUSH whose earlier writes have all been answered. */
    private void answerFlushes() {
        long oldestWrite = Long.MAX_VALUE;
        for (NbdSlot s : slots) {
            if (s.busy && s.writing) {
                oldestWrite = Math.min(oldestWrite, s.seq);
            }
        }
        for (NbdSlot s : slots) {
            if (s.busy && s.flushWaiting && s.seq <= oldestWrite) {
                s.flushWaiting = false;
                flushesWaiting--;
                reply(s, 0, false);
            }
        }
    }

    /**
     * Sends the simple reply of {@code slot} (with its data after a good READ) from the slot's own buffer; the slot
     * is free once the socket has written it ({@link NbdSlot.Buffer}). Replies written together leave in one flush
     * (the pipeline's flush consolidation).
     */
    private void reply(NbdSlot slot, int error, boolean withData) {
        slot.zeroNext = 0;
        slot.zeroEnd = 0;
        if (closed) {
            replySent(slot);
            return;
        }
        ByteBuf r = slot.region;
        r.setInt(0, NbdProtocol.SIMPLE_REPLY_MAGIC).setInt(4, error).setLong(8, slot.cookie);
        r.setIndex(0, NbdProtocol.REPLY_BYTES + (withData ? (int) slot.length : 0));
        channel.writeAndFlush(r, channel.voidPromise());
    }

    /** The slot's reply is written (or dropped with the connection): the slot is free. */
    void replySent(NbdSlot slot) {
        slot.busy = false;
        busy--;
        if (closed || disconnecting) {
            finishIfIdle();
        } else {
            decoder.resume();
        }
    }

    /** NBD_CMD_DISC: no more requests; closes once every reply is out. */
    void disconnect() {
        disconnecting = true;
        decoder.stop();
        finishIfIdle();
    }

    /** A request that cannot be parsed: a hard disconnect. */
    void violation() {
        decoder.stop();
        channel.close();
    }

    /** The connection is closed; the buffer goes once no slot is with the store. */
    void closed() {
        closed = true;
        finishIfIdle();
    }

    private void finishIfIdle() {
        if (busy != 0) {
            return;
        }
        if (!closed) {
            if (!closing) {
                // A slot frees when the next handler has taken its bytes, maybe before they are written: close
                // after them.
                closing = true;
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        } else if (!released) {
            released = true;
            for (NbdSlot slot : slots) {
                slot.region.free();
            }
        }
    }
}
