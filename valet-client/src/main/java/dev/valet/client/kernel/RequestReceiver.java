package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.GenericNetlink;
import dev.valet.client.netlink.MalformedMessageException;
import dev.valet.client.netlink.MessageReader;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkEndpoint;
import io.netty.buffer.ByteBuf;
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
 * {@code store.write} from the data area at BUF (no copy); FLUSH → completes at once with 0 (every write the driver
 * has seen complete is already where the store keeps it for good: the engine acknowledges a write only once every
 * standing copy stored it, a host tier once it is in the tier area, which outlives the daemon); an invalid request
 * (offset or length not a multiple of 4096, longer than VALET_MAX_IO_BYTES, outside the device, BUF missing, not a
 * multiple of 4096 or BUF + LENGTH past the data area, no op, another device's) completes at once with -EINVAL
 * (-EIO for another device's), an unknown op with -EOPNOTSUPP. It also takes the kernel's answers to ATTACH/DETACH
 * (for {@link DataPortControl}) and its errors for DONE messages. A data area that cannot be mapped stops it (a
 * channel failure): its requests stay with the driver. If the pool ever runs dry (a request the driver timed out
 * and reissued while the engine still works on the first), it waits for a slot rather than failing anything.
 *
 * <p>The store can change once: the channel starts serving with the backing store and switches to the host tier
 * that wraps it ({@link #serveWith}) once the tier area is mapped and recovered; requests already in the backing
 * store finish there. A channel that starts {@linkplain #holdRequests holding} keeps reads and writes
 * ({@link HeldRequests}) until that switch, and then hands them to the tier first.
 */
final class RequestReceiver {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    /**
     * Room for the largest IO datagram: requests are descriptors only (about 60 bytes each, at most 32 a message),
     * and the driver keeps a message within NLMSG_GOODSIZE (one page, at most 8 KiB whatever the page size).
     */
    static final int RECEIVE_BUFFER_BYTES = 16 * 1024;

    /** Where reads and writes go: the backing store, then the tier once {@link #serveWith} says so. */
    private volatile PageStore store;
    /** While true, reads and writes wait in {@link #held} (guarded by it) instead of going to the store. */
    private volatile boolean holding;
    private final HeldRequests held;
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
        this.held = new HeldRequests(pool.slots());
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

    /** Before {@link #start}: keep reads and writes until {@link #serveWith} (the tier is not recovered yet). */
    void holdRequests() {
        holding = true;
    }

    /**
     * From now on reads and writes go to {@code next}; the held ones first, in order, from the calling thread while
     * the receiver waits (so the store never sees two threads at once).
     */
    void serveWith(PageStore next) {
        synchronized (held) {
            store = next;
            if (holding) {
                DataArea a = device.area();
                for (int i = 0; i < held.count(); i++) {
                    call(next, held.slot(i), held.op(i), held.firstPage(i), held.pages(i), a.buffer(), held.buf(i));
                }
                if (held.count() > 0) {
                    LOG.info("{} requests that came while the tier was recovered went to it", held.count());
                }
                held.clear();
                holding = false;
            }
        }
    }

    /**
     * After the receiver stopped, when the store never got ready: forgets the held requests (they were never
     * answered, so the driver holds them again for the next daemon once this one has detached); returns how many.
     */
    int dropHeld() {
        synchronized (held) {
            int n = held.count();
            held.clear();
            return n;
        }
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
        if (r.op == ValetGenl.OP_READ) {
            reads++;
        } else {
            writes++;
        }
        if (holding && hold(slot, r.op, firstPage, pages, (int) r.buf)) {
            return;
        }
        call(store, slot, r.op, firstPage, pages, a.buffer(), (int) r.buf);
    }

    /** Keeps the request for {@link #serveWith} unless it has just run: false then (serve it now). */
    private boolean hold(int slot, int op, long firstPage, int pages, int buf) {
        synchronized (held) {
            if (!holding) {
                return false;
            }
            held.add(slot, op, firstPage, pages, buf);
            return true;
        }
    }

    /** Hands a read or write to {@code to}; one that throws at once is answered as failed. */
    private void call(PageStore to, int slot, int op, long firstPage, int pages, ByteBuf area,
                      int buf) {
        PageIoDone done = answers.begin(slot);
        try {
            if (op == ValetGenl.OP_READ) {
                to.read(firstPage, pages, area, buf, done);
            } else {
                to.write(firstPage, pages, area, buf, done);
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
