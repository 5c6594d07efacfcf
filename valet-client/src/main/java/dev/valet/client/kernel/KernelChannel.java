package dev.valet.client.kernel;

import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkEndpoint;
import dev.valet.client.netlink.NetlinkSocket;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.DeviceConfig;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * Serves /dev/valetN: the daemon's end of the VALET generic netlink family ({@code native/kernel/valet_uapi.h},
 * version 3). This is what the daemon holds; the work is done by its parts, one job each:
 * {@link ServedDevice} (which device, and its areas), {@link RequestReceiver} (thread {@code valet-kernel-rx}:
 * IO messages in, requests to the engine), {@link EngineAnswers} (the engine's answer per slot),
 * {@link CompletionSender} (thread {@code valet-kernel-tx}: DONE messages out), {@link DataPortControl} (ATTACH and
 * DETACH) and {@link CpuTopology} (how many hardware queues, so how many slots).
 *
 * <h2>Start ({@link #open})</h2>
 * Resolve the family (a family of another version is refused with what to do); STATUS finds an existing device of
 * {@code swapSpace} bytes (one left by an earlier daemon, possibly with held requests) or there is none; ATTACH
 * (with VALET_ATTR_VERSION) on the data socket, so held requests come here at once; then, when there was none,
 * CREATE it with the {@code device:} settings of valet.yaml (DATA_BYTES from {@code device.dataArea}). ATTACH comes
 * before CREATE because the kernel reads a new disk (partition scan) before CREATE returns, and that read needs a
 * daemon. Then the device's data area is mapped, unless a request already did. Last, the host tier (below).
 *
 * <h2>The host tier</h2>
 * A device may own a tier area (CREATE's TIER_BYTES, from {@link Settings#tierBytes}; an existing device keeps its
 * own): memory the driver allocated with the device and frees only with it, so what the tier keeps there survives
 * this daemon, a SIGKILL included, and is never swapped out. Once the device is known and ATTACHed (only the attached
 * daemon may map the tier, so two daemons never recover the same one), the channel maps it and the
 * {@link TierOpener} makes the page store that serves from it over the backing store. A fresh tier is all zeros
 * and holds nothing the backing store lacks: the requests of a new device go to the backing store until the tier
 * is open, then to the tier. An existing tier may hold pages only it has (its daemon was killed): the requests the
 * driver held come at once after ATTACH, and wait ({@link HeldRequests}) until the opener has recovered the tier;
 * then they go to it, first. A device without a tier is served by the backing store alone.
 *
 * <h2>The data area</h2>
 * Page data never rides in netlink messages: the driver keeps each device's pages in a data area it allocated at
 * CREATE, which this daemon maps shared from /dev/valet-data ({@link DataArea}); each read or write names where its
 * bytes are (BUF), and the engine reads and writes them there.
 *
 * <h2>Slots and memory</h2>
 * One slot per request in flight ({@link SlotPool}: cookie, op and status; no data), queue depth × hardware queues
 * slots, because the driver's tags (queue depth per hardware queue, at most one hardware queue per possible CPU)
 * bound how many requests it has out at once. The pages are in the driver's data area, mapped once; receive buffer
 * {@link RequestReceiver#RECEIVE_BUFFER_BYTES} (IO messages carry only descriptors), send buffer
 * {@link CompletionSender#SEND_BUFFER_BYTES}; nothing else is allocated per request: each slot's answer is
 * preallocated and the engine tells it when the request ends.
 *
 * <h2>Stop ({@link #close})</h2>
 * DETACH: the driver holds requests in flight and new ones for the next daemon (up to the hold timeout), with their
 * data in its area, so nothing is failed; then both threads stop, the sockets close, the tier's store is closed and
 * the areas are unmapped.
 */
public final class KernelChannel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    /** How often the channel's threads look at their stop flag while nothing comes. */
    static final Duration POLL = Duration.ofMillis(200);
    /**
     * Socket receive buffer per request slot: what the kernel charges (skb truesize) for a one-page IO message of
     * a single request, the worst case; messages of many requests cost far less per request.
     */
    private static final int RECEIVE_BYTES_PER_SLOT = 8192;
    private static final Duration QUIESCE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Makes the page store that serves a device from its tier area: the host tier over {@code backing}. It runs
     * once per start, on the thread that opens the channel, while the driver's requests wait; for an existing tier
     * it recovers what an earlier daemon left there first. {@code tierMemory} is the whole tier area, mapped shared
     * from the driver (valid until the channel closes). When the store it returns is {@link AutoCloseable}, the
     * channel closes it once no request is in it and only then unmaps the tier: it must not touch
     * {@code tierMemory} after its close returns.
     */
    @FunctionalInterface
    public interface TierOpener {
        PageStore open(ByteBuf tierMemory, PageStore backing) throws IOException;
    }

    /**
     * What the channel needs to know.
     *
     * @param deviceBytes    size of the device to find or create (swapSpace)
     * @param queueDepth     tags per hardware queue of a device this daemon creates
     * @param holdTimeout    how long the driver holds requests while no daemon is attached
     * @param ioTimeout      one request's timeout in the driver
     * @param dataBytes      size of the data area of a device this daemon creates (CREATE's DATA_BYTES)
     * @param tierBytes      size of the tier area of a device this daemon creates (CREATE's TIER_BYTES), 0: none
     * @param hardwareQueues the most hardware queues the driver may use (the possible CPUs)
     */
    public record Settings(long deviceBytes, int queueDepth, Duration holdTimeout, Duration ioTimeout,
                           long dataBytes, long tierBytes, int hardwareQueues) {
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
            if (tierBytes < 0 || tierBytes > ValetGenl.MAX_TIER_BYTES || tierBytes % ValetGenl.BLOCK_SIZE != 0) {
                throw new IllegalArgumentException("tier area of " + tierBytes + " bytes: must be 0 (none) or a"
                        + " multiple of " + ValetGenl.BLOCK_SIZE + " up to " + ValetGenl.MAX_TIER_BYTES);
            }
            if (queueDepth < 1 || hardwareQueues < 1) {
                throw new IllegalArgumentException("queue depth " + queueDepth + ", hardware queues "
                        + hardwareQueues);
            }
        }

        /** Without a tier area. */
        public Settings(long deviceBytes, int queueDepth, Duration holdTimeout, Duration ioTimeout, long dataBytes,
                        int hardwareQueues) {
            this(deviceBytes, queueDepth, holdTimeout, ioTimeout, dataBytes, 0, hardwareQueues);
        }

        /** From valet.yaml: {@code swapSpace} and the {@code device:} section; hardware queues = possible CPUs. */
        public static Settings from(ClientConfig config) {
            DeviceConfig d = config.device();
            return new Settings(config.swapSpace().bytes(), d.queueDepth(), d.holdTimeout(), d.ioTimeout(),
                    d.dataArea().bytes(), config.hostTier().size().bytes(), CpuTopology.possibleCpus());
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

    private final ValetControl control;
    private final NetlinkEndpoint data;
    private final SlotPool pool;
    private final ServedDevice device;
    private final DataPortControl dataControl;
    private final CompletionSender sender;
    private final EngineAnswers answers;
    private final RequestReceiver receiver;
    private final PageStore backing;
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private boolean attached;
    private boolean closed;
    /** What the {@link TierOpener} made, or null (no tier, or not open yet). */
    private volatile PageStore tierStore;

    private KernelChannel(PageStore store, ValetControl control, NetlinkEndpoint data, int slots, Settings settings,
                          DataArea.Mapper mapper) {
        this.backing = store;
        int familyId = control.familyId();
        this.control = control;
        this.data = data;
        this.pool = new SlotPool(slots);
        this.device = new ServedDevice(control, mapper, settings);
        // The receiver reads ATTACH's and DETACH's answers: waiting for one is pointless once it has stopped.
        this.dataControl = new DataPortControl(familyId, data, this::receiving);
        this.sender = new CompletionSender(pool, data, familyId, dataControl, failure);
        this.answers = new EngineAnswers(pool, sender);
        this.receiver = new RequestReceiver(store, pool, device, answers, sender, dataControl, data, familyId,
                failure);
    }

    /**
     * Opens the channel for {@code store}, without a host tier: finds or creates the device (see the class comment)
     * and serves it until {@link #close()}. {@code settings} must ask for no tier area, and an existing device must
     * have none.
     *
     * @throws dev.valet.client.netlink.FamilyNotFoundException when valet.ko is not loaded
     * @throws IOException naming what to do when the loaded module speaks another version, another daemon is
     *                     attached, the existing device does not fit valet.yaml, or the data area cannot be mapped
     */
    public static KernelChannel open(PageStore store, Settings settings) throws IOException {
        return open(store, settings, null);
    }

    /**
     * Opens the channel for {@code backing} with a host tier: as {@link #open(PageStore, Settings)}, and once the
     * device's tier area is mapped, {@code tier} (null: none) makes the store that serves from then on. A device
     * without a tier area (none asked for, or an existing one made without) is served by {@code backing} alone.
     *
     * @throws IOException as {@link #open(PageStore, Settings)}, when the tier area cannot be mapped, when the
     *                     opener fails, or when an existing device has a tier area and {@code tier} is null
     */
    public static KernelChannel open(PageStore backing, Settings settings, TierOpener tier) throws IOException {
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
            return open(backing, settings, control, socket, socket, DataArea::map, tier);
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
                              NetlinkSocket dataSocket, DataArea.Mapper mapper, TierOpener tier) throws IOException {
        if (tier == null && settings.tierBytes() != 0) {
            throw new IllegalArgumentException("a tier area of " + settings.tierBytes() + " bytes, but no tier to"
                    + " open in it");
        }
        List<DeviceStatus> devices = control.status();
        DeviceStatus existing = ServedDevice.choose(devices, settings);
        if (existing != null && existing.tierBytes() != 0 && tier == null) {
            throw new IOException(existing.devicePath() + " has a tier area of " + existing.tierBytes() + " bytes,"
                    + " which may hold pages its donors lack, but this daemon runs without a host tier to recover"
                    + " them: start it with a host tier (any size: the device keeps its own)");
        }
        int queueDepth = Math.max(settings.queueDepth(), existing != null ? existing.queueDepth() : 0);
        int slots = settings.slotsFor(queueDepth);
        if (dataSocket != null) {
            sizeBuffers(dataSocket, slots);
        }
        KernelChannel channel = new KernelChannel(store, control, data, slots, settings, mapper);
        try {
            channel.start(existing, settings, tier);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void sizeBuffers(NetlinkSocket socket, int slots) throws IOException {
        // Every request's IO message can sit in the receive buffer: descriptors only, but the kernel charges each
        // message's skb truesize, and doubles what is set here for its own bookkeeping.
        long wantReceive = Math.min((long) slots * RECEIVE_BYTES_PER_SLOT + RequestReceiver.RECEIVE_BUFFER_BYTES,
                Integer.MAX_VALUE / 2);
        int receive = socket.setReceiveBufferSize((int) wantReceive);
        if (receive < wantReceive) {
            LOG.warn("netlink receive buffer is {} bytes, wanted {}: requests may be dropped under load (run as"
                    + " root, or raise net.core.rmem_max)", receive, wantReceive);
        }
        // A DONE message must be smaller than the send buffer (less 32 bytes); room for several.
        int sendBuffer = CompletionSender.SEND_BUFFER_BYTES;
        int send = socket.setSendBufferSize(16 * sendBuffer);
        if (send < sendBuffer + 64) {
            throw new IOException("netlink send buffer is only " + send + " bytes; DONE messages need "
                    + (sendBuffer + 64) + " (run as root, or raise net.core.wmem_max)");
        }
    }

    private void start(DeviceStatus existing, Settings settings, TierOpener tier) throws IOException {
        if (existing != null) {
            device.adopt(existing); // before ATTACH: the requests held for it arrive at once
            if (existing.tierBytes() != 0) {
                receiver.holdRequests(); // until the tier an earlier daemon left is recovered
            }
        }
        receiver.start();
        sender.start();
        dataControl.attach();
        attached = true;
        if (existing != null) {
            device.adopted(existing);
        } else {
            device.create(settings);
        }
        DataArea a = device.mapOwnArea();
        DataArea t = device.mapTier(); // after ATTACH: only the attached daemon may map it
        if (t != null) {
            long began = System.nanoTime();
            PageStore opened = tier.open(t.buffer(), backing);
            tierStore = opened;
            receiver.serveWith(opened);
            LOG.info("host tier open in the tier area of {} ({} bytes) after {} ms", device.path(), t.bytes(),
                    (System.nanoTime() - began) / 1_000_000);
        }
        LOG.info("kernel channel: {} request slots, data area {} bytes, tier area {} bytes, receive buffer {} bytes,"
                        + " send buffer {} bytes", pool.slots(), a.bytes(), device.tierBytes(),
                RequestReceiver.RECEIVE_BUFFER_BYTES, CompletionSender.SEND_BUFFER_BYTES);
    }

    private boolean receiving() {
        return receiver.isAlive();
    }

    public int deviceIndex() {
        return device.index();
    }

    public long deviceBytes() {
        return device.bytes();
    }

    public String devicePath() {
        return device.path();
    }

    public int slots() {
        return pool.slots();
    }

    /** Size of the device's data area (the driver's memory, mapped here). */
    public long dataBytes() {
        return device.dataBytes();
    }

    /** Size of the device's tier area (the driver's memory for the host tier), 0 when it has none. */
    public long tierBytes() {
        return device.tierBytes();
    }

    /** Bytes preallocated for the channel: slot arrays, receive, send and control buffers (not the data area). */
    public long preallocatedBytes() {
        return pool.bytes() + RequestReceiver.RECEIVE_BUFFER_BYTES + CompletionSender.SEND_BUFFER_BYTES
                + DataPortControl.BUFFER_BYTES;
    }

    /** Completes with the cause when the receiver or the sender stops on an error (not on {@link #close()}). */
    public CompletableFuture<Throwable> failure() {
        return failure;
    }

    public Stats stats() {
        RequestReceiver r = receiver;
        return new Stats(r.requests(), r.reads(), r.writes(), r.flushes(), r.invalid(), answers.failed(),
                sender.doneMessages(), sender.completed(), r.malformed(), r.overruns(), r.rejectedDone(),
                r.slotWaits(), answers.answered(), answers.engineNanos());
    }

    /** DETACH (held requests wait for the next daemon), stop both threads, close the sockets. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (attached && receiver.isAlive()) {
            try {
                dataControl.detach();
            } catch (IOException e) {
                LOG.warn("DETACH failed (closing the socket detaches too): {}", e.getMessage());
            }
        }
        receiver.stop();
        sender.stop();
        join(receiver.thread());
        join(sender.thread());
        int dropped = receiver.dropHeld();
        if (dropped > 0) {
            LOG.warn("{} requests waited for a tier that did not open: the driver holds them for the next daemon",
                    dropped);
        }
        long deadline = System.nanoTime() + QUIESCE_TIMEOUT.toNanos();
        while (answers.inEngine() > 0 && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(1_000_000);
        }
        data.close();
        control.close();
        int stillInEngine = answers.inEngine();
        if (closeTierStore() && stillInEngine == 0) {
            device.unmapTier();
        } else if (device.tierBytes() != 0) {
            LOG.warn("the tier area stays mapped: its store may still use it");
        }
        device.unmap(stillInEngine, QUIESCE_TIMEOUT);
        Stats s = stats();
        LOG.info("kernel channel closed: {} requests ({} reads, {} writes, {} flushes), {} refused, {} failed,"
                        + " {} completions in {} DONE messages, {} malformed, {} overruns", s.requests(), s.reads(),
                s.writes(), s.flushes(), s.invalid(), s.failed(), s.completions(), s.doneMessages(), s.malformed(),
                s.overruns());
    }

    /** Closes what the tier opener made, if it is closeable; false when that failed (it may still use the tier). */
    private boolean closeTierStore() {
        if (!(tierStore instanceof AutoCloseable closeable)) {
            return true;
        }
        try {
            closeable.close();
            return true;
        } catch (Exception e) {
            LOG.warn("closing the host tier failed: {}", e.toString());
            return false;
        }
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
