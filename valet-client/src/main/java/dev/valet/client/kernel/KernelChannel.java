package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.DeviceConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Serves /dev/valetN: the daemon's end of the VALET generic netlink family ({@code native/kernel/valet_uapi.h},
 * version 2).
 *
 * <h2>Start ({@link #open})</h2>
 * Resolve the family (a family of another version is refused with what to do); STATUS finds an existing device of
 * {@code swapSpace} bytes (one left by an earlier daemon, possibly with held requests) or there is none; ATTACH
 * (with VALET_ATTR_VERSION) on the data socket, so held requests come here at once; then, when there was none,
 * CREATE it with the {@code device:} settings of valet.yaml (DATA_BYTES from {@code device.dataArea}). ATTACH comes
 * before CREATE because the kernel reads a new disk (partition scan) before CREATE returns, and that read needs a
 * daemon. Last, the device's data area is mapped, unless a request already did (below).
 *
 * <h2>The data area</h2>
 * Page data never rides in netlink messages: the driver keeps each device's pages in a data area it allocated at
 * CREATE, which this daemon maps shared from /dev/valet-data ({@link DataArea}); each read or write names where its
 * bytes are (BUF). The area is mapped lazily, by the first read or write that needs it, because the first requests
 * of a new device arrive before CREATE's answer says which device it is: the IO message's INDEX names it, and its
 * size is the DATA_BYTES this daemon asked for (or, for an existing device, the one STATUS reported). {@link #open}
 * maps it too, so that a mapping the driver refuses fails the start, not a request.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>{@code valet-kernel-rx} receives IO messages (one datagram at a time into a preallocated buffer), checks
 *       the whole message first (a malformed one is dropped and counted: nothing is read outside it), then for
 *       each REQ takes a free slot and: READ → {@code store.read} into the data area at BUF; WRITE →
 *       {@code store.write} from the data area at BUF (no copy); FLUSH → completes at once with 0 (the engine
 *       acknowledges a write only once every standing copy stored it, so every write the driver has seen complete
 *       is already durable); an invalid request (offset or length not a multiple of 4096, longer than
 *       VALET_MAX_IO_BYTES, outside the device, BUF missing, not a multiple of 4096 or BUF + LENGTH past the data
 *       area, no op, another device's) completes at once with -EINVAL (-EIO for another device's), an unknown op
 *       with -EOPNOTSUPP. It also takes the kernel's answers to ATTACH/DETACH and its errors for DONE messages. A
 *       data area that cannot be mapped stops it (a channel failure): its requests stay with the driver.</li>
 *   <li>{@code valet-kernel-tx} takes every ready slot at once and encodes as many CPLs (COOKIE and STATUS only:
 *       a read's data is already in the area) per DONE message as fit in its preallocated send buffer, gives each
 *       slot back, and sends. A storage failure completes with -EIO.</li>
 *   <li>The engine's threads complete requests: they set the slot's status and push it on the lock-free ready
 *       list, waking the sender when the list was empty.</li>
 * </ul>
 *
 * <h2>Slots and memory</h2>
 * One slot per request in flight ({@link SlotPool}: cookie, op and status; no data), queue depth × hardware queues
 * slots, because the driver's tags (queue depth per hardware queue, at most one hardware queue per possible CPU)
 * bound how many requests it has out at once. The pages are in the driver's data area, mapped once; receive buffer
 * {@link #RECEIVE_BUFFER_BYTES} (IO messages carry only descriptors), send buffer {@link #SEND_BUFFER_BYTES};
 * nothing else is allocated per request here: each slot's {@link PageIoDone} is preallocated and the engine
 * tells it when the request ends. If the pool ever runs dry (a request the driver timed out and reissued while the
 * engine still works on the first), the receiver waits for a slot rather than failing anything.
 *
 * <h2>Stop ({@link #close})</h2>
 * DETACH: the driver holds requests in flight and new ones for the next daemon (up to the hold timeout), with their
 * data in its area, so nothing is failed; then both threads stop, the sockets close and the area is unmapped.
 */
public final class KernelChannel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    /**
     * Room for the largest IO datagram: requests are descriptors only (about 60 bytes each, at most 32 a message),
     * and the driver keeps a message within NLMSG_GOODSIZE (one page, at most 8 KiB whatever the page size).
     */
    public static final int RECEIVE_BUFFER_BYTES = 16 * 1024;
    /**
     * Largest DONE message this daemon sends (148 CPLs); completions beyond it go in the next message. Within
     * NLMSG_GOODSIZE (3.7 KiB with 4 KiB pages), so the kernel copies it into an ordinary skb, not a vmalloc'd one.
     */
    public static final int SEND_BUFFER_BYTES = 3584;
    /**
     * Socket receive buffer per request slot: what the kernel charges (skb truesize) for a one-page IO message of
     * a single request, the worst case; messages of many requests cost far less per request.
     */
    private static final int RECEIVE_BYTES_PER_SLOT = 8192;
    /** A CPL: nest header, COOKIE, STATUS (all it ever carries). */
    static final int CPL_BYTES = AttributeDescriptor.HEADER_SIZE + AttributeDescriptor.totalSize(8)
            + AttributeDescriptor.totalSize(4);
    private static final int DONE_HEADER_BYTES = NetlinkHeaderDescriptor.SIZE + GenericHeaderDescriptor.SIZE;
    /** How often the receiver looks at the stop flag while no message comes. */
    static final Duration POLL = Duration.ofMillis(200);
    /**
     * How long ATTACH/DETACH may wait for the kernel's answer. It comes in microseconds on an idle machine; a generous
     * bound because the receiver that reads it may be starved on a loaded one (seen: 10 s was not enough in the VM).
     */
    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration QUIESCE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * What the channel needs to know.
     *
     * @param deviceBytes    size of the device to find or create (swapSpace)
     * @param queueDepth     tags per hardware queue of a device this daemon creates
     * @param holdTimeout    how long the driver holds requests while no daemon is attached
     * @param ioTimeout      one request's timeout in the driver
     * @param dataBytes      size of the data area of a device this daemon creates (CREATE's DATA_BYTES)
     * @param hardwareQueues the most hardware queues the driver may use (the possible CPUs)
     */
    public record Settings(long deviceBytes, int queueDepth, Duration holdTimeout, Duration ioTimeout,
                           long dataBytes, int hardwareQueues) {
        public Settings {
            if (deviceBytes <= 0 || deviceBytes % ValetGenl.BLOCK_SIZE != 0) {
                throw new IllegalArgumentException("device size " + deviceBytes + " is not a positive multiple of "
                        + ValetGenl.BLOCK_SIZE);
            }
            if (dataBytes < ValetGenl.MIN_DATA_BYTES || dataBytes > ValetGenl.MAX_DATA_BYTES
                    || dataBytes % ValetGenl.BLOCK_SIZE != 0) {
                throw new IllegalArgumentException("data area of " + dataBytes + " bytes: must be a multiple of "
                        + ValetGenl.BLOCK_SIZE + " from " + ValetGenl.MIN_DATA_BYTES + " to "
                        + ValetGenl.MAX_DATA_BYTES);
            }
            if (queueDepth < 1 || hardwareQueues < 1) {
                throw new IllegalArgumentException("queue depth " + queueDepth + ", hardware queues "
                        + hardwareQueues);
            }
        }

        /** From valet.yaml: {@code swapSpace} and the {@code device:} section; hardware queues = possible CPUs. */
        public static Settings from(ClientConfig config) {
            DeviceConfig d = config.device();
            return new Settings(config.swapSpace().bytes(), d.queueDepth(), d.holdTimeout(), d.ioTimeout(),
                    d.dataArea().bytes(), possibleCpus());
        }

        /** Slots for a device of {@code queueDepth} tags per hardware queue. */
        public int slotsFor(int queueDepth) {
            long slots = (long) Math.max(queueDepth, 1) * hardwareQueues;
            if (slots > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException(slots + " request slots (queue depth " + queueDepth + " × "
                        + hardwareQueues + " hardware queues) is too many");
            }
            return (int) slots;
        }
    }

    /** Counters since start; read racily (each has one writer, or is atomic). */
    public record Stats(long requests, long reads, long writes, long flushes, long invalid, long failed,
                        long doneMessages, long completions, long malformed, long overruns, long rejectedDone,
                        long slotWaits, long engineAnswers, long engineNanos) {
        /** Mean microseconds a read or write spent in the engine (from the call to its answer), 0 before any. */
        public double engineMicrosPerRequest() {
            return engineAnswers == 0 ? 0 : engineNanos / 1000.0 / engineAnswers;
        }
    }

    private final PageStore store;
    private final ValetControl control;
    private final NetlinkEndpoint data;
    private final int familyId;
    private final SlotPool pool;
    private final Completion[] completions;
    private final DataArea.Mapper mapper;
    private final Object areaLock = new Object();
    /** Mapped lazily, by the first request that needs it or by {@link #start} (guarded by areaLock to map). */
    private volatile DataArea area;
    /** The data area's size: the DATA_BYTES asked for in CREATE, or an existing device's. */
    private volatile long dataBytes;
    private final ByteBuffer rx = ByteBuffer.allocateDirect(RECEIVE_BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final ByteBuffer tx = ByteBuffer.allocateDirect(SEND_BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final ByteBuffer controlTx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final MessageReader rxMessage = new MessageReader();
    private final AttributeReader rxAttributes = new AttributeReader();
    private final AttributeReader rxRequest = new AttributeReader();
    private final IoRequest request = new IoRequest();
    private final MessageWriter txWriter = new MessageWriter().wrap(tx);
    private final MessageWriter controlWriter = new MessageWriter().wrap(controlTx);
    private final Thread receiver;
    private final Thread sender;
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private final AtomicInteger inEngine = new AtomicInteger();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong engineAnswers = new AtomicLong();
    private final AtomicLong engineNanos = new AtomicLong();
    private final AtomicInteger controlSeqs = new AtomicInteger(1);

    private volatile boolean running = true;
    private volatile boolean detached;
    private boolean attached;
    private boolean closed;
    /** -1 until known (CREATE may still be answering when the first requests of a new device arrive). */
    private volatile int deviceIndex = -1;
    private volatile long deviceBytes;
    /** The INDEX of the IO message being served, or -1 when it has none (receiver only). */
    private int messageIndex;
    private int doneSeq;

    // The answer to the ATTACH or DETACH in progress, handed from the receiver (guarded by controlLock).
    private final Object controlLock = new Object();
    private int controlSeq;
    private boolean controlAnswered;
    private int controlError;
    private String controlMessage;

    // Receiver counters (single writer).
    private volatile long requests;
    private volatile long reads;
    private volatile long writes;
    private volatile long flushes;
    private volatile long invalid;
    private volatile long malformed;
    private volatile long overruns;
    private volatile long rejectedDone;
    private volatile long slotWaits;
    // Sender counters (single writer).
    private volatile long doneMessages;
    private volatile long completed;

    private KernelChannel(PageStore store, ValetControl control, NetlinkEndpoint data, int slots, Settings settings,
                          DataArea.Mapper mapper) {
        this.store = store;
        this.control = control;
        this.data = data;
        this.familyId = control.familyId();
        this.deviceBytes = settings.deviceBytes();
        this.dataBytes = settings.dataBytes();
        this.mapper = mapper;
        this.pool = new SlotPool(slots);
        this.completions = new Completion[slots];
        for (int s = 0; s < slots; s++) {
            completions[s] = new Completion(s);
        }
        for (int at = 0; at < RECEIVE_BUFFER_BYTES; at += 4096) {
            rx.put(at, (byte) 0);
        }
        this.receiver = new Thread(this::receiveLoop, "valet-kernel-rx");
        this.sender = new Thread(this::sendLoop, "valet-kernel-tx");
        receiver.setDaemon(true);
        sender.setDaemon(true);
    }

    /**
     * Opens the channel on real netlink sockets: finds or creates the device and attaches to it.
     *
     * @throws FamilyNotFoundException when valet.ko is not loaded
     * @throws IOException             when the driver refuses (not root, another daemon attached, version) or
     *                                 an existing device does not fit the settings
     */
    public static KernelChannel open(PageStore store, Settings settings) throws IOException {
        ValetControl control = ValetControl.open();
        NetlinkSocket socket;
        try {
            socket = NetlinkSocket.open(Netlink.NETLINK_GENERIC);
        } catch (IOException | RuntimeException e) {
            control.close();
            throw e;
        }
        try {
            socket.setReceiveTimeout(POLL);
            return open(store, settings, control, socket, socket, DataArea::map);
        } catch (IOException | RuntimeException e) {
            socket.close();
            control.close();
            throw e;
        }
    }

    /**
     * Opens the channel over the given control and data endpoints and data area mapper (tests use a simulated
     * driver). {@code dataSocket}, when not null, is the data endpoint's real socket, whose buffers are sized here.
     */
    static KernelChannel open(PageStore store, Settings settings, ValetControl control, NetlinkEndpoint data,
                              NetlinkSocket dataSocket, DataArea.Mapper mapper) throws IOException {
        List<DeviceStatus> devices = control.status();
        DeviceStatus existing = choose(devices, settings);
        int queueDepth = Math.max(settings.queueDepth(), existing != null ? existing.queueDepth() : 0);
        int slots = settings.slotsFor(queueDepth);
        if (dataSocket != null) {
            sizeBuffers(dataSocket, slots);
        }
        KernelChannel channel = new KernelChannel(store, control, data, slots, settings, mapper);
        try {
            channel.start(existing, settings);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The existing device to serve, null to create one, or an error when what exists does not fit. */
    private static DeviceStatus choose(List<DeviceStatus> devices, Settings settings) throws IOException {
        if (devices.isEmpty()) {
            return null;
        }
        if (devices.size() > 1) {
            StringBuilder names = new StringBuilder();
            for (DeviceStatus d : devices) {
                names.append(names.length() == 0 ? "" : ", ").append(d.devicePath());
            }
            throw new IOException(devices.size() + " valet devices exist (" + names + "), but one daemon serves"
                    + " exactly one: unload the module (setup/module.sh unload) to start afresh");
        }
        DeviceStatus d = devices.get(0);
        if (d.attached()) {
            throw new IOException(d.devicePath() + " already has a daemon attached: is another valet client"
                    + " running? (setup/client.sh status)");
        }
        if (d.size() != settings.deviceBytes()) {
            throw new IOException(d.devicePath() + " exists with " + d.size() + " bytes, but swapSpace is "
                    + settings.deviceBytes() + " bytes: set swapSpace to " + d.size() + " to serve it (it may hold"
                    + " swapped pages), or swapoff it and unload the module (setup/module.sh unload)");
        }
        return d;
    }

    private static void sizeBuffers(NetlinkSocket socket, int slots) throws IOException {
        // Every request's IO message can sit in the receive buffer: descriptors only, but the kernel charges each
        // message's skb truesize, and doubles what is set here for its own bookkeeping.
        long wantReceive = Math.min((long) slots * RECEIVE_BYTES_PER_SLOT + RECEIVE_BUFFER_BYTES,
                Integer.MAX_VALUE / 2);
        int receive = socket.setReceiveBufferSize((int) wantReceive);
        if (receive < wantReceive) {
            LOG.warn("netlink receive buffer is {} bytes, wanted {}: requests may be dropped under load (run as"
                    + " root, or raise net.core.rmem_max)", receive, wantReceive);
        }
        // A DONE message must be smaller than the send buffer (less 32 bytes); room for several.
        int send = socket.setSendBufferSize(16 * SEND_BUFFER_BYTES);
        if (send < SEND_BUFFER_BYTES + 64) {
            throw new IOException("netlink send buffer is only " + send + " bytes; DONE messages need "
                    + (SEND_BUFFER_BYTES + 64) + " (run as root, or raise net.core.wmem_max)");
        }
    }

    private void start(DeviceStatus existing, Settings settings) throws IOException {
        if (existing != null) {
            // Before ATTACH: the requests held for it arrive at once.
            deviceIndex = existing.index();
            deviceBytes = existing.size();
            dataBytes = existing.dataBytes();
            if (dataBytes <= 0 || dataBytes > ValetGenl.MAX_DATA_BYTES) {
                throw new IOException("the driver reports a data area of " + dataBytes + " bytes for "
                        + existing.devicePath() + ": does valet.ko speak VALET version " + ValetGenl.GENL_VERSION
                        + "? " + ValetControl.LOAD_THIS_CHECKOUT);
            }
        }
        receiver.start();
        sender.start();
        controlOnData("ATTACH", ValetGenl.CMD_ATTACH);
        attached = true;
        if (existing != null) {
            LOG.info("attached to {} ({} bytes, queue depth {}, hold {}ms, io timeout {}ms, data area {} bytes; {}"
                            + " requests held for a daemon); the device settings of valet.yaml apply only to devices"
                            + " this daemon creates", existing.devicePath(), existing.size(), existing.queueDepth(),
                    existing.holdMillis(), existing.ioTimeoutMillis(), existing.dataBytes(), existing.held());
        } else {
            deviceIndex = control.create(settings.deviceBytes(), settings.queueDepth(),
                    millis(settings.holdTimeout()), millis(settings.ioTimeout()), settings.dataBytes());
            deviceBytes = settings.deviceBytes();
            LOG.info("created {} ({} bytes, queue depth {}, hold {}ms, io timeout {}ms, data area {} bytes)",
                    DeviceStatus.devicePath(deviceIndex), deviceBytes, settings.queueDepth(),
                    settings.holdTimeout().toMillis(), settings.ioTimeout().toMillis(), settings.dataBytes());
        }
        DataArea a = mapArea(deviceIndex);
        if (a.index() != deviceIndex) {
            throw new IOException("requests for /dev/valet" + a.index() + " came before CREATE answered with "
                    + devicePath() + ": another program is creating valet devices (setup/client.sh status)");
        }
        LOG.info("kernel channel: {} request slots, data area {} bytes, receive buffer {} bytes, send buffer {} bytes",
                pool.slots(), a.bytes(), RECEIVE_BUFFER_BYTES, SEND_BUFFER_BYTES);
    }

    /**
     * The data area of /dev/valet{@code index}, mapped now unless it already is: by the receiver, for the first
     * request that needs it (before CREATE has answered, for a new device), or by {@link #start}.
     */
    private DataArea mapArea(int index) throws IOException {
        synchronized (areaLock) {
            DataArea a = area;
            if (a == null) {
                a = mapper.map(index, dataBytes);
                area = a;
                LOG.debug("mapped the data area of /dev/valet{}: {} bytes", index, a.bytes());
            }
            return a;
        }
    }

    private static int millis(Duration d) {
        return (int) Math.min(d.toMillis(), Integer.MAX_VALUE);
    }

    public int deviceIndex() {
        return deviceIndex;
    }

    public long deviceBytes() {
        return deviceBytes;
    }

    public String devicePath() {
        return DeviceStatus.devicePath(deviceIndex);
    }

    public int slots() {
        return pool.slots();
    }

    /** Size of the device's data area (the driver's memory, mapped here). */
    public long dataBytes() {
        return dataBytes;
    }

    /** Bytes preallocated for the channel: slot arrays, receive, send and control buffers (not the data area). */
    public long preallocatedBytes() {
        return pool.bytes() + RECEIVE_BUFFER_BYTES + SEND_BUFFER_BYTES + controlTx.capacity();
    }

    /** Completes with the cause when the receiver or the sender stops on an error (not on {@link #close()}). */
    public CompletableFuture<Throwable> failure() {
        return failure;
    }

    public Stats stats() {
        return new Stats(requests, reads, writes, flushes, invalid, failed.get(), doneMessages, completed, malformed,
                overruns, rejectedDone, slotWaits, engineAnswers.get(), engineNanos.get());
    }

    /** The most hardware queues a blk-mq driver can have: one per possible CPU. */
    static int possibleCpus() {
        try {
            String text = Files.readString(Path.of("/sys/devices/system/cpu/possible"), StandardCharsets.US_ASCII);
            int count = countCpus(text);
            if (count > 0) {
                return Math.max(count, Runtime.getRuntime().availableProcessors());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read /sys/devices/system/cpu/possible", e);
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** Counts the CPUs in a list like {@code 0-3,8,10-11}. */
    static int countCpus(String list) {
        int count = 0;
        for (String part : list.strip().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            if (dash < 0) {
                Integer.parseInt(part);
                count++;
            } else {
                count += Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
            }
        }
        return count;
    }

    // ---------------------------------------------------------------------------------------------- receiver

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
                    rxMessage.wrap(rx, 0, n);
                    while (rxMessage.next()) {
                        handle(rxMessage);
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

    private void handle(MessageReader message) throws IOException {
        int type = message.type();
        if (type == Netlink.NLMSG_ERROR) {
            answer(message);
        } else if (type == familyId) {
            int cmd = message.command();
            if (cmd == ValetGenl.CMD_IO) {
                io(message);
            } else {
                LOG.debug("ignored VALET command {} from the kernel", cmd);
            }
        }
    }

    /** An acknowledgement or error: for the ATTACH/DETACH in progress, or the kernel refusing a DONE. */
    private void answer(MessageReader message) throws MalformedMessageException {
        int seq = message.seq();
        int error = message.error();
        synchronized (controlLock) {
            if (seq == controlSeq && controlSeq != 0) {
                controlError = error;
                controlMessage = error != 0 ? message.errorMessage() : null;
                controlAnswered = true;
                controlLock.notifyAll();
                return;
            }
        }
        if (error != 0) {
            rejectedDone++;
            String why = GenericNetlink.errorFor("DONE", -error, message.errorMessage()).getMessage();
            if (detached) {
                LOG.debug("after DETACH: {}", why);
            } else {
                LOG.warn("the driver refused a DONE message ({} so far): {}", rejectedDone, why);
            }
        }
    }

    /** An IO message: checked whole first, so that a malformed one is dropped before any request starts. */
    private void io(MessageReader message) throws IOException {
        messageIndex = -1;
        message.attributes(rxAttributes);
        while (rxAttributes.next()) {
            if (rxAttributes.type() == ValetGenl.ATTR_REQ) {
                request.decode(rxAttributes.nested(rxRequest));
            } else if (rxAttributes.type() == ValetGenl.ATTR_INDEX) {
                messageIndex = rxAttributes.u32();
            }
        }
        message.attributes(rxAttributes);
        while (rxAttributes.next()) {
            if (rxAttributes.type() == ValetGenl.ATTR_REQ) {
                serve(request.decode(rxAttributes.nested(rxRequest)));
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
        int served = deviceIndex;
        int device = messageIndex >= 0 ? messageIndex : served;
        int problem = r.problem(deviceBytes);
        if (device >= 0 && served >= 0 && device != served) {
            // Another device's requests (one made behind this daemon's back): its offsets are not this swap
            // space's, so serving them would corrupt both.
            problem = Netlink.EIO;
        }
        DataArea a = null;
        if (problem == 0 && r.movesData()) {
            a = area;
            if (a == null && device >= 0) {
                a = mapArea(device); // the first requests of a new device come before CREATE's answer
            }
            // No device known (no INDEX, CREATE unanswered), or another device's area: nowhere to find the data.
            problem = a == null || a.index() != device ? Netlink.EIO : r.bufferProblem(a.bytes());
        }
        if (problem != 0) {
            refuse(slot, r, device, problem);
            return;
        }
        if (r.op == ValetGenl.OP_FLUSH) {
            flushes++;
            complete(slot, 0);
            return;
        }
        long firstPage = r.offset / ValetGenl.BLOCK_SIZE;
        int pages = (int) (r.length / ValetGenl.BLOCK_SIZE);
        inEngine.incrementAndGet();
        pool.engineStart[slot] = System.nanoTime();
        try {
            if (r.op == ValetGenl.OP_READ) {
                reads++;
                store.read(firstPage, pages, a.buffer(), (int) r.buf, completions[slot]);
            } else {
                writes++;
                store.write(firstPage, pages, a.buffer(), (int) r.buf, completions[slot]);
            }
        } catch (RuntimeException e) {
            completions[slot].pageIoDone(e);
        }
    }

    /** Completes an invalid request at once with {@code -problem}, counted and (sparingly) logged. */
    private void refuse(int slot, IoRequest r, int device, int problem) {
        invalid++;
        if (invalid <= 10 || invalid % 1000 == 0) {
            LOG.warn("refused request {} for /dev/valet{} ({} refused so far): op {} offset {} length {} buf {}: {}",
                    Long.toUnsignedString(r.cookie), device, invalid, r.op, r.offset, r.length, r.buf,
                    problem == Netlink.EIO ? "not the device this daemon serves (" + devicePath() + ")"
                            : problem == Netlink.EOPNOTSUPP ? "unknown op" : "invalid");
        }
        complete(slot, -problem);
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

    /** The engine's answer for one slot (one preallocated instance per slot). */
    private final class Completion implements PageIoDone {
        private final int slot;

        Completion(int slot) {
            this.slot = slot;
        }

        @Override
        public void pageIoDone(Throwable error) {
            engineNanos.addAndGet(System.nanoTime() - pool.engineStart[slot]);
            engineAnswers.incrementAndGet();
            inEngine.decrementAndGet();
            if (error != null) {
                long n = failed.incrementAndGet();
                if (n <= 10 || n % 1000 == 0) {
                    LOG.warn("request {} failed with EIO ({} so far): {}", Long.toUnsignedString(pool.cookie[slot]),
                            n, error.toString());
                }
                complete(slot, -Netlink.EIO);
            } else {
                complete(slot, 0);
            }
        }
    }

    private void complete(int slot, int status) {
        pool.status[slot] = status;
        if (pool.pushReady(slot)) {
            LockSupport.unpark(sender);
        }
    }

    // ------------------------------------------------------------------------------------------------ sender

    private void sendLoop() {
        try {
            while (true) {
                int slot = pool.takeReady();
                if (slot == SlotPool.NONE) {
                    if (!running) {
                        return;
                    }
                    LockSupport.parkNanos(this, POLL.toNanos());
                    continue;
                }
                beginDone();
                while (slot != SlotPool.NONE) {
                    int next = pool.nextReady(slot);
                    if (!txWriter.fits(CPL_BYTES)) {
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
        txWriter.reset().begin(familyId, Netlink.NLM_F_REQUEST, doneSeq, data.portId())
                .genl(ValetGenl.CMD_DONE, ValetGenl.GENL_VERSION);
    }

    /** One CPL: COOKIE and STATUS, nothing else (a read's data is already in the data area). */
    private void encode(int slot) {
        txWriter.beginNest(ValetGenl.ATTR_CPL)
                .putU64(ValetGenl.CPL_COOKIE, pool.cookie[slot])
                .putS32(ValetGenl.CPL_STATUS, pool.status[slot])
                .endNest();
        completed++;
    }

    /** Sends the DONE message, retrying while the kernel is short of memory; other errors lose it (logged). */
    private void sendDone() {
        int length = txWriter.finish();
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
                if (detached) {
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

    // ------------------------------------------------------------------------------- control on the data port

    /** Sends ATTACH or DETACH from the data port and waits for the receiver to see the kernel's answer. */
    private void controlOnData(String name, int cmd) throws IOException {
        int seq = controlSeqs.getAndIncrement();
        synchronized (controlLock) {
            controlSeq = seq;
            controlAnswered = false;
            controlError = 0;
            controlMessage = null;
            controlWriter.reset().begin(familyId, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, seq, data.portId())
                    .genl(cmd, ValetGenl.GENL_VERSION);
            if (cmd == ValetGenl.CMD_ATTACH) {
                controlWriter.putU32(ValetGenl.ATTR_VERSION, ValetGenl.GENL_VERSION);
            }
            int length = controlWriter.finish();
            data.send(controlTx, 0, length);
            long deadline = System.nanoTime() + CONTROL_TIMEOUT.toNanos();
            try {
                while (!controlAnswered) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !receiver.isAlive()) {
                        controlSeq = 0;
                        throw new IOException("no answer from the kernel to " + name + " within "
                                + CONTROL_TIMEOUT.toSeconds() + "s");
                    }
                    TimeUnit.NANOSECONDS.timedWait(controlLock, Math.min(left, POLL.toNanos()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for the kernel's answer to " + name, e);
            } finally {
                controlSeq = 0;
            }
            if (controlError != 0) {
                int errno = -controlError;
                String hint = switch (errno) {
                    case Netlink.EPERM -> ": the daemon needs CAP_SYS_ADMIN (run it as root)";
                    case Netlink.EBUSY -> ": another daemon is attached (setup/client.sh status)";
                    case Netlink.EPROTO, Netlink.EINVAL, Netlink.EOPNOTSUPP -> cmd == ValetGenl.CMD_ATTACH
                            ? ": the loaded valet.ko speaks another VALET version than this daemon's "
                            + ValetGenl.GENL_VERSION + ": " + ValetControl.LOAD_THIS_CHECKOUT : "";
                    default -> "";
                };
                throw new NetlinkErrnoException(GenericNetlink.errorFor(name, errno, controlMessage).getMessage()
                        + hint, errno);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- close

    /** DETACH (held requests wait for the next daemon), stop both threads, close the sockets. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (attached && receiver.isAlive()) {
            try {
                detached = true;
                controlOnData("DETACH", ValetGenl.CMD_DETACH);
            } catch (IOException e) {
                LOG.warn("DETACH failed (closing the socket detaches too): {}", e.getMessage());
            }
        }
        stopThreads();
        long deadline = System.nanoTime() + QUIESCE_TIMEOUT.toNanos();
        while (inEngine.get() > 0 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(1_000_000);
        }
        data.close();
        control.close();
        DataArea a;
        synchronized (areaLock) {
            a = area;
        }
        if (a != null && inEngine.get() == 0) {
            a.close();
        } else if (a != null) {
            LOG.warn("{} engine requests still running after {}s: the data area stays mapped", inEngine.get(),
                    QUIESCE_TIMEOUT.toSeconds());
        }
        Stats s = stats();
        LOG.info("kernel channel closed: {} requests ({} reads, {} writes, {} flushes), {} refused, {} failed,"
                        + " {} completions in {} DONE messages, {} malformed, {} overruns", s.requests(), s.reads(),
                s.writes(), s.flushes(), s.invalid(), s.failed(), s.completions(), s.doneMessages(), s.malformed(),
                s.overruns());
    }

    private void stopThreads() {
        running = false;
        LockSupport.unpark(sender);
        join(receiver);
        join(sender);
    }

    private static void join(Thread t) {
        if (!t.isAlive() || t == Thread.currentThread()) {
            return;
        }
        try {
            t.join(POLL.toMillis() * 10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("{} did not stop", t.getName());
        }
    }
}
