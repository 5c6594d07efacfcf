package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeDescriptor;
import dev.valet.client.netlink.GenericHeaderDescriptor;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkEndpoint;
import dev.valet.client.netlink.NetlinkErrnoException;
import dev.valet.client.netlink.NetlinkHeaderDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * The channel's {@code valet-kernel-tx} thread: sends completions back to the driver. Whoever completes a request
 * (an engine thread, or the receiver for FLUSH and refused requests) {@link #complete}s its slot, which pushes it
 * on the pool's lock-free ready list and wakes this thread when the list was empty. The thread takes every ready
 * slot at once and encodes as many CPLs (COOKIE and STATUS only: a read's data is already in the data area) per
 * DONE message as fit in its preallocated send buffer, gives each slot back, and sends.
 */
final class CompletionSender {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    /**
     * Largest DONE message this daemon sends (148 CPLs); completions beyond it go in the next message. Within
     * NLMSG_GOODSIZE (3.7 KiB with 4 KiB pages), so the kernel copies it into an ordinary skb, not a vmalloc'd one.
     */
    static final int SEND_BUFFER_BYTES = 3584;
    /** A CPL: nest header, COOKIE, STATUS (all it ever carries). */
    static final int CPL_BYTES = AttributeDescriptor.HEADER_SIZE + AttributeDescriptor.totalSize(8)
            + AttributeDescriptor.totalSize(4);
    private static final int DONE_HEADER_BYTES = NetlinkHeaderDescriptor.SIZE + GenericHeaderDescriptor.SIZE;

    private final SlotPool pool;
    private final NetlinkEndpoint data;
    private final int familyId;
    private final DataPortControl control;
    private final CompletableFuture<Throwable> failure;
    private final ByteBuffer tx = ByteBuffer.allocateDirect(SEND_BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final MessageWriter writer = new MessageWriter().wrap(tx);
    private final Thread thread;
    private volatile boolean running = true;
    private int doneSeq;
    // Counters (single writer: this thread).
    private volatile long doneMessages;
    private volatile long completed;

    /** {@code failure} is completed with the cause if the thread stops on an error. */
    CompletionSender(SlotPool pool, NetlinkEndpoint data, int familyId, DataPortControl control,
                     CompletableFuture<Throwable> failure) {
        this.pool = pool;
        this.data = data;
        this.familyId = familyId;
        this.control = control;
        this.failure = failure;
        this.thread = new Thread(this::sendLoop, "valet-kernel-tx");
        thread.setDaemon(true);
    }

    /** Any thread: {@code slot}'s request ended with {@code status} (0 or a negative errno). */
    void complete(int slot, int status) {
        pool.status[slot] = status;
        if (pool.pushReady(slot)) {
            LockSupport.unpark(thread);
        }
    }

    void start() {
        thread.start();
    }

    /** Sends what is ready, then ends; {@link #thread()} to join it. */
    void stop() {
        running = false;
        LockSupport.unpark(thread);
    }

    Thread thread() {
        return thread;
    }

    long doneMessages() {
        return doneMessages;
    }

    long completed() {
        return completed;
    }

    private void sendLoop() {
        try {
            while (true) {
                int slot = pool.takeReady();
                if (slot == SlotPool.NONE) {
                    if (!running) {
                        return;
                    }
                    LockSupport.parkNanos(this, KernelChannel.POLL.toNanos());
                    continue;
                }
                beginDone();
                while (slot != SlotPool.NONE) {
                    int next = pool.nextReady(slot);
                    if (!writer.fits(CPL_BYTES)) {
                        sendDone();
                        beginDone();
                    }
                    encode(slot);
                    pool.release(slot); // its completion is in the message now
                    slot = next;
                }
                sendDone();
            }
        } catch (Throwable e) {
            if (running) {
                LOG.error("kernel channel sender failed", e);
                failure.complete(e);
            }
        }
    }

    private void beginDone() {
        // DONE sequence numbers keep bit 30 set, so they never meet ATTACH's and DETACH's small ones.
        doneSeq = ((doneSeq + 1) & 0x3fffffff) | 0x40000000;
        writer.reset().begin(familyId, Netlink.NLM_F_REQUEST, doneSeq, data.portId())
                .genl(ValetGenl.CMD_DONE, ValetGenl.GENL_VERSION);
    }

    /** One CPL: COOKIE and STATUS, nothing else (a read's data is already in the data area). */
    private void encode(int slot) {
        writer.beginNest(ValetGenl.ATTR_CPL)
                .putU64(ValetGenl.CPL_COOKIE, pool.cookie[slot])
                .putS32(ValetGenl.CPL_STATUS, pool.status[slot])
                .endNest();
        completed++;
    }

    /** Sends the DONE message, retrying while the kernel is short of memory; other errors lose it (logged). */
    private void sendDone() {
        int length = writer.finish();
        if (length <= DONE_HEADER_BYTES) {
            return;
        }
        long backoff = 100_000;
        while (true) {
            try {
                data.send(tx, 0, length);
                doneMessages++;
                return;
            } catch (NetlinkErrnoException e) {
                int errno = e.errno();
                if ((errno == Netlink.ENOBUFS || errno == Netlink.ENOMEM || errno == Netlink.EAGAIN) && running) {
                    LockSupport.parkNanos(backoff);
                    backoff = Math.min(backoff * 2, 100_000_000);
                    continue;
                }
                if (control.detached()) {
                    return;
                }
                LOG.error("a DONE message was lost: {}", e.getMessage());
                return;
            } catch (IOException e) {
                LOG.error("a DONE message was lost: {}", e.getMessage());
                return;
            }
        }
    }
}
