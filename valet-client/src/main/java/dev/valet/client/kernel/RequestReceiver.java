package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.GenericNetlink;
import dev.valet.client.netlink.MalformedMessageException;
import dev.valet.client.netlink.MessageReader;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * The channel's {@code valet-kernel-rx} thread: receives IO messages (one datagram at a time into a preallocated
 * buffer), checks the whole message first (a malformed one is dropped and counted: nothing is read outside it),
 * then for each REQ takes a free slot and: READ → {@code store.read} into the data area at BUF; WRITE →
 * {@code store.write} from the data area at BUF (no copy); FLUSH → completes at once with 0 (the engine
 * acknowledges a write only once every standing copy stored it, so every write the driver has seen complete is
 * already durable); an invalid request (offset or length not a multiple of 4096, longer than VALET_MAX_IO_BYTES,
 * outside the device, BUF missing, not a multiple of 4096 or BUF + LENGTH past the data area, no op, another
 * device's) completes at once with -EINVAL (-EIO for another device's), an unknown op with -EOPNOTSUPP. It also
 * takes the kernel's answers to ATTACH/DETACH (for {@link DataPortControl}) and its errors for DONE messages. A
 * data area that cannot be mapped stops it (a channel failure): its requests stay with the driver. If the pool
 * ever runs dry (a request the driver timed out and reissued while the engine still works on the first), it waits
 * for a slot rather than failing anything.
 */
final class RequestReceiver {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    /**
     * Room for the largest IO datagram: requests are descriptors only (about 60 bytes each, at most 32 a message),
     * and the driver keeps a message within NLMSG_GOODSIZE (one page, at most 8 KiB whatever the page size).
     */
    static final int RECEIVE_BUFFER_BYTES = 16 * 1024;

    private final PageStore store;
    private final SlotPool pool;
    private final ServedDevice device;
    private final EngineAnswers answers;
    private final CompletionSender sender;
    private final DataPortControl control;
    private final NetlinkEndpoint data;
    private final int familyId;
    private final CompletableFuture<Throwable> failure;
    private final ByteBuffer rx = ByteBuffer.allocateDirect(RECEIVE_BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final MessageReader message = new MessageReader();
    private final AttributeReader attributes = new AttributeReader();
    private final AttributeReader requestAttributes = new AttributeReader();
    private final IoRequest request = new IoRequest();
    private final Thread thread;
    private volatile boolean running = true;
    /** The INDEX of the IO message being served, or -1 when it has none. */
    private int messageIndex;
    // Counters (single writer: this thread).
    private volatile long requests;
    private volatile long reads;
    private volatile long writes;
    private volatile long flushes;
    private volatile long invalid;
    private volatile long malformed;
    private volatile long overruns;
    private volatile long rejectedDone;
    private volatile long slotWaits;

    /** Parts are the channel's; {@code failure} is completed with the cause if the thread stops on an error. */
    RequestReceiver(PageStore store, SlotPool pool, ServedDevice device, EngineAnswers answers,
                    CompletionSender sender, DataPortControl control, NetlinkEndpoint data, int familyId,
                    CompletableFuture<Throwable> failure) {
        this.store = store;
        this.pool = pool;
        this.device = device;
        this.answers = answers;
        this.sender = sender;
        this.control = control;
        this.data = data;
        this.familyId = familyId;
        this.failure = failure;
        for (int at = 0; at < RECEIVE_BUFFER_BYTES; at += 4096) {
            rx.put(at, (byte) 0); // touched now, not by the first request
        }
        this.thread = new Thread(this::receiveLoop, "valet-kernel-rx");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Ends at the next message or receive timeout; {@link #thread()} to join it. */
    void stop() {
        running = false;
    }

    Thread thread() {
        return thread;
    }

    boolean isAlive() {
        return thread.isAlive();
    }

    private void receiveLoop() {
        try {
            while (running) {
                int n = data.receive(rx);
                if (n == NetlinkEndpoint.RECEIVE_TIMEOUT || n == NetlinkEndpoint.RECEIVE_IGNORED) {
                    continue;
                }
                if (n == NetlinkEndpoint.RECEIVE_OVERRUN) {
                    overruns++;
                    LOG.warn("the kernel could not queue messages for this daemon (netlink receive buffer full, {} so"
                            + " far): the driver sends them again", overruns);
                    continue;
                }
                try {
                    message.wrap(rx, 0, n);
                    while (message.next()) {
                        handle(message);
                    }
                } catch (MalformedMessageException e) {
                    malformed++;
                    LOG.error("dropped a malformed message from the kernel ({} so far): {}", malformed,
                            e.getMessage());
                }
            }
        } catch (Throwable e) {
            if (running) {
                LOG.error("kernel channel receiver failed", e);
                failure.complete(e);
            }
        }
    }

    private void handle(MessageReader m) throws IOException {
        int type = m.type();
        if (type == Netlink.NLMSG_ERROR) {
            if (!control.takeAnswer(m)) {
                refusedDone(m);
            }
        } else if (type == familyId) {
            int cmd = m.command();
            if (cmd == ValetGenl.CMD_IO) {
                io(m);
            } else {
                LOG.debug("ignored VALET command {} from the kernel", cmd);
            }
        }
    }

    /** An acknowledgement or error that is not ATTACH's or DETACH's: the kernel refusing a DONE (or accepting it). */
    private void refusedDone(MessageReader m) throws MalformedMessageException {
        int error = m.error();
        if (error != 0) {
            rejectedDone++;
            String why = GenericNetlink.errorFor("DONE", -error, m.errorMessage()).getMessage();
            if (control.detached()) {
                LOG.debug("after DETACH: {}", why);
            } else {
                LOG.warn("the driver refused a DONE message ({} so far): {}", rejectedDone, why);
            }
        }
    }

    /** An IO message: checked whole first, so that a malformed one is dropped before any request starts. */
    private void io(MessageReader m) throws IOException {
        messageIndex = -1;
        m.attributes(attributes);
        while (attributes.next()) {
            if (attributes.type() == ValetGenl.ATTR_REQ) {
                request.decode(attributes.nested(requestAttributes));
            } else if (attributes.type() == ValetGenl.ATTR_INDEX) {
                messageIndex = attributes.u32();
            }
        }
        m.attributes(attributes);
        while (attributes.next()) {
            if (attributes.type() == ValetGenl.ATTR_REQ) {
                serve(request.decode(attributes.nested(requestAttributes)));
            }
        }
    }

    /**
     * Serves one request; throws only when the data area cannot be mapped (the channel fails, and the request
     * stays with the driver for the next daemon).
     */
    private void serve(IoRequest r) throws IOException {
        if (!r.hasCookie) {
            malformed++;
            LOG.error("dropped a request without a cookie ({} malformed so far): it cannot be answered", malformed);
            return;
        }
        requests++;
        int slot = acquireSlot();
        if (slot == SlotPool.NONE) {
            return; // closing: the driver holds it for the next daemon
        }
        pool.cookie[slot] = r.cookie;
        pool.op[slot] = r.op;
        int served = device.index();
        int target = messageIndex >= 0 ? messageIndex : served;
        int problem = r.problem(device.bytes());
        if (target >= 0 && served >= 0 && target != served) {
            // Another device's requests (one made behind this daemon's back): its offsets are not this swap
            // space's, so serving them would corrupt both.
            problem = Netlink.EIO;
        }
        DataArea a = null;
        if (problem == 0 && r.movesData()) {
            a = device.area();
            if (a == null && target >= 0) {
                a = device.map(target); // the first requests of a new device come before CREATE's answer
            }
            // No device known (no INDEX, CREATE unanswered), or another device's area: nowhere to find the data.
            problem = a == null || a.index() != target ? Netlink.EIO : r.bufferProblem(a.bytes());
        }
        if (problem != 0) {
            refuse(slot, r, target, problem);
            return;
        }
        if (r.op == ValetGenl.OP_FLUSH) {
            flushes++;
            sender.complete(slot, 0);
            return;
        }
        long firstPage = r.offset / ValetGenl.BLOCK_SIZE;
        int pages = (int) (r.length / ValetGenl.BLOCK_SIZE);
        PageIoDone done = answers.begin(slot);
        try {
            if (r.op == ValetGenl.OP_READ) {
                reads++;
                store.read(firstPage, pages, a.buffer(), (int) r.buf, done);
            } else {
                writes++;
                store.write(firstPage, pages, a.buffer(), (int) r.buf, done);
            }
        } catch (RuntimeException e) {
            done.pageIoDone(e);
        }
    }

    /** Completes an invalid request at once with {@code -problem}, counted and (sparingly) logged. */
    private void refuse(int slot, IoRequest r, int target, int problem) {
        invalid++;
        if (invalid <= 10 || invalid % 1000 == 0) {
            LOG.warn("refused request {} for /dev/valet{} ({} refused so far): op {} offset {} length {} buf {}: {}",
                    Long.toUnsignedString(r.cookie), target, invalid, r.op, r.offset, r.length, r.buf,
                    problem == Netlink.EIO ? "not the device this daemon serves (" + device.path() + ")"
                            : problem == Netlink.EOPNOTSUPP ? "unknown op" : "invalid");
        }
        sender.complete(slot, -problem);
    }

    private int acquireSlot() {
        int slot = pool.acquire();
        if (slot != SlotPool.NONE) {
            return slot;
        }
        slotWaits++;
        if (slotWaits == 1 || slotWaits % 1000 == 0) {
            LOG.warn("all {} request slots are in use ({} waits so far): waiting for one (the driver has more"
                    + " requests out than queue depth × hardware queues)", pool.slots(), slotWaits);
        }
        while (running) {
            LockSupport.parkNanos(50_000);
            slot = pool.acquire();
            if (slot != SlotPool.NONE) {
                return slot;
            }
        }
        return SlotPool.NONE;
    }

    long requests() {
        return requests;
    }

    long reads() {
        return reads;
    }

    long writes() {
        return writes;
    }

    long flushes() {
        return flushes;
    }

    long invalid() {
        return invalid;
    }

    long malformed() {
        return malformed;
    }

    long overruns() {
        return overruns;
    }

    long rejectedDone() {
        return rejectedDone;
    }

    long slotWaits() {
        return slotWaits;
    }
}
