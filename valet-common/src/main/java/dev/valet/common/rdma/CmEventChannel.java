package dev.valet.common.rdma;

import java.io.IOException;

/**
 * An rdma_cm event channel: creates ids bound to it and hands out their events one by one, with a timeout (the
 * channel's fd is polled, so no thread blocks for ever inside librdmacm).
 */
public final class CmEventChannel implements AutoCloseable {
    private final Rdma rdma;
    private final long channel;
    private final FdWaiter waiter;
    private final long out = NativeMemory.allocate(8);
    private boolean closed;

    public CmEventChannel(Rdma rdma) throws IOException {
        this.rdma = rdma;
        this.channel = rdma.cm().rdma_create_event_channel();
        if (channel == 0) {
            NativeMemory.free(out);
            throw new IOException(rdma.lastError("rdma_create_event_channel"));
        }
        this.waiter = new FdWaiter(NativeMemory.getInt(channel, VerbsLayout.EVENT_CHANNEL_FD));
    }

    /** A new rdma_cm_id (TCP port space, reliable connected) whose events come to this channel. */
    public long createId() throws IOException {
        if (rdma.cm().rdma_create_id(channel, out, 0, VerbsLayout.RDMA_PS_TCP) != 0) {
            throw new IOException(rdma.lastError("rdma_create_id"));
        }
        return NativeMemory.getAddress(out, 0);
    }

    /** The next event, or {@code null} when none came within {@code timeoutMs}. */
    public synchronized CmEvent next(int timeoutMs) throws IOException {
        if (!waiter.awaitReadable(timeoutMs)) {
            return null;
        }
        if (rdma.cm().rdma_get_cm_event(channel, out) != 0) {
            throw new IOException(rdma.lastError("rdma_get_cm_event"));
        }
        long event = NativeMemory.getAddress(out, 0);
        int type = NativeMemory.getInt(event, VerbsLayout.CM_EVENT_EVENT);
        CmEvent e = new CmEvent(type, NativeMemory.getInt(event, VerbsLayout.CM_EVENT_STATUS),
                NativeMemory.getAddress(event, VerbsLayout.CM_EVENT_ID),
                NativeMemory.getAddress(event, VerbsLayout.CM_EVENT_LISTEN_ID), rdma.cm().rdma_event_str(type));
        rdma.cm().rdma_ack_cm_event(event);
        return e;
    }

    /** The next event, which must be {@code type} within {@code timeoutMs}; else an IOException saying what came. */
    public CmEvent expect(int type, int timeoutMs, String what) throws IOException {
        CmEvent e = next(timeoutMs);
        if (e == null) {
            throw new IOException(what + ": no rdma_cm event within " + timeoutMs + " ms");
        }
        if (e.type() != type) {
            throw new IOException(what + ": got " + e.name() + " (status " + e.status() + ") instead of "
                    + rdma.cm().rdma_event_str(type));
        }
        return e;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        waiter.close();
        rdma.cm().rdma_destroy_event_channel(channel);
        NativeMemory.free(out);
    }
}
