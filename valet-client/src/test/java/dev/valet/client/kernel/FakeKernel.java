package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.ErrorDescriptor;
import dev.valet.client.netlink.MalformedMessageException;
import dev.valet.client.netlink.MessageReader;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkEndpoint;
import dev.valet.client.netlink.NetlinkHeaderDescriptor;
import dev.valet.common.posix.AnonymousMemory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The valet driver and nlctrl as the daemon sees them through its netlink endpoints: enough of the contract to
 * run {@link KernelChannel} on a host without valet.ko (a fake, because the real driver needs root and the module:
 * the VM lab runs that). It answers GETFAMILY, STATUS, CREATE, ATTACH and DETACH like the header says, sends IO
 * messages built by the test, and records every DONE.
 *
 * <p>Each device has a data area, as the driver allocates one at CREATE: memory of this process that
 * {@link #mapper()} hands to the channel as its {@link DataArea}, so both sides see the same bytes. The test puts a
 * write's data there ({@link #place}) before it sends the IO; the bytes of a successful read are taken from there
 * when its CPL arrives ({@link Cpl#data()}), as the driver copies them out at completion. A device may also have a
 * tier area ({@link #tiers}), which outlives the channels as the driver's does. Only the attached port's process
 * may map either, as in the driver: here, only while a port is attached.
 */
final class FakeKernel {
    static final int FAMILY = 0x1d;

    /**
     * One CPL of a DONE message; {@code data} is what a read completed with status 0 left in the data area at its
     * BUF (null for anything else: a CPL itself never carries data).
     */
    record Cpl(long cookie, int status, byte[] data) {
    }

    final List<DeviceStatus> devices = new ArrayList<>();
    /** Each device's data area, by index. Never unmapped: an engine thread of a test may still touch it. */
    final Map<Integer, AnonymousMemory> areas = new ConcurrentHashMap<>();
    /** Each device's tier area, by index (devices without one have none here). */
    final Map<Integer, AnonymousMemory> tiers = new ConcurrentHashMap<>();
    /** Reads sent and not completed: cookie → {device, BUF, LENGTH}. */
    private final Map<Long, long[]> readsOut = new ConcurrentHashMap<>();
    /** Every attribute type seen inside a CPL, and the largest CPL nest payload. */
    final Set<Integer> cplTypes = ConcurrentHashMap.newKeySet();
    final AtomicInteger largestCpl = new AtomicInteger();
    /** The largest DONE datagram. */
    final AtomicInteger largestDone = new AtomicInteger();
    /** "index:bytes" of every map call of a data area, and how many mappings were closed. */
    final List<String> mapped = new CopyOnWriteArrayList<>();
    final AtomicInteger unmapped = new AtomicInteger();
    /** "index:bytes" of every map call of a tier area, and how many of those mappings were closed. */
    final List<String> tierMapped = new CopyOnWriteArrayList<>();
    final AtomicInteger tierUnmapped = new AtomicInteger();
    volatile IOException mapError;
    /** The version the family registers (nlctrl's CTRL_ATTR_VERSION), and the one ATTACH must carry. */
    volatile int familyVersion = ValetGenl.GENL_VERSION;
    volatile int driverVersion = ValetGenl.GENL_VERSION;
    /** Sent to the attached daemon during CREATE, whose answer waits for its DONE (the partition scan's read). */
    volatile Consumer<MessageWriter> ioDuringCreate;
    private volatile CountDownLatch createIoServed;
    final BlockingQueue<List<Cpl>> doneMessages = new LinkedBlockingQueue<>();
    final BlockingQueue<String> commands = new LinkedBlockingQueue<>();
    final AtomicInteger doneCount = new AtomicInteger();
    final List<byte[]> held = new ArrayList<>();
    volatile boolean familyLoaded = true;
    volatile int attachError;
    volatile Endpoint attachedTo;
    volatile CountDownLatch doneGate;
    final CountDownLatch doneBlocked = new CountDownLatch(1);
    final Endpoint control = new Endpoint(1001);
    final Endpoint data = new Endpoint(1002);

    /** The next {@code count} completions the daemon sent, from as many DONE messages as they took (10 s each). */
    List<Cpl> completions(int count) throws InterruptedException {
        List<Cpl> all = new ArrayList<>();
        while (all.size() < count) {
            List<Cpl> message = doneMessages.poll(10, TimeUnit.SECONDS);
            if (message == null) {
                throw new AssertionError("no DONE after " + all.size() + " of " + count + " completions");
            }
            all.addAll(message);
        }
        return all;
    }

    final class Endpoint implements NetlinkEndpoint {
        private final int port;
        private final BlockingQueue<byte[]> toUser = new LinkedBlockingQueue<>();
        volatile boolean closed;

        Endpoint(int port) {
            this.port = port;
        }

        @Override
        public int portId() {
            return port;
        }

        @Override
        public void send(ByteBuffer buffer, int offset, int length) throws IOException {
            ByteBuffer copy = ByteBuffer.allocateDirect(length).order(ByteOrder.nativeOrder());
            copy.put(0, buffer, offset, length);
            handle(this, copy);
        }

        @Override
        public int receive(ByteBuffer buffer) throws IOException {
            byte[] datagram;
            try {
                datagram = toUser.poll(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            if (datagram == null) {
                return RECEIVE_TIMEOUT;
            }
            if (datagram.length > buffer.capacity()) {
                throw new MalformedMessageException("datagram of " + datagram.length + " bytes lost");
            }
            buffer.put(0, datagram);
            return datagram.length;
        }

        void deliver(byte[] datagram) {
            toUser.add(datagram);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** Builds one datagram with {@code build} and queues it for the data port (as the driver would send IO). */
    void sendIo(Consumer<MessageWriter> build) {
        data.deliver(track(datagram(build)));
    }

    /** Builds an IO datagram the driver holds for the next daemon that attaches. */
    void hold(Consumer<MessageWriter> build) {
        synchronized (held) {
            held.add(track(datagram(build)));
        }
    }

    /** STATUS of an idle device with a hold of 60 s and an I/O timeout of 30 s. */
    static DeviceStatus device(int index, long size, int queueDepth, long dataBytes, boolean attached, long held) {
        return device(index, size, queueDepth, dataBytes, 0, attached, held);
    }

    /** The same with a tier area of {@code tierBytes}. */
    static DeviceStatus device(int index, long size, int queueDepth, long dataBytes, long tierBytes, boolean attached,
                               long held) {
        return new DeviceStatus(index, size, queueDepth, 60000, 30000, dataBytes, tierBytes, attached, 0, held, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** A device that exists before the daemon starts (left by an earlier one), with its areas. */
    void addDevice(DeviceStatus d) {
        synchronized (devices) {
            devices.add(d);
        }
        areas.put(d.index(), AnonymousMemory.map(d.dataBytes(), false));
        if (d.tierBytes() > 0) {
            tiers.put(d.index(), AnonymousMemory.map(d.tierBytes(), false));
        }
    }

    /** Puts a write's data in device {@code index}'s area at {@code buf}, as the block layer's pages would be. */
    void place(int index, long buf, byte[] bytes) {
        areas.get(index).buffer().setBytes((int) buf, bytes);
    }

    /** The areas of device {@code index} as the channel maps them. */
    DataArea.Mapper mapper() {
        return (kind, index, bytes) -> {
            boolean tier = kind == DataArea.Kind.TIER;
            (tier ? tierMapped : mapped).add(index + ":" + bytes);
            IOException error = mapError;
            if (error != null) {
                throw error;
            }
            if (attachedTo == null) {
                throw new IOException("cannot map the " + kind.what() + " of /dev/valet" + index + ": not the"
                        + " attached daemon (EPERM)");
            }
            AnonymousMemory area = (tier ? tiers : areas).get(index);
            if (area == null || bytes > area.size()) {
                throw new IOException("cannot map the " + kind.what() + " of /dev/valet" + index + ": no area of "
                        + bytes + " bytes (ENXIO)");
            }
            return DataArea.over(kind, index, area.buffer(), bytes,
                    tier ? tierUnmapped::incrementAndGet : unmapped::incrementAndGet);
        };
    }

    /** Remembers where the reads of an IO datagram want their data, to pick it up at completion. */
    private byte[] track(byte[] datagram) {
        ByteBuffer b = ByteBuffer.allocateDirect(datagram.length).order(ByteOrder.nativeOrder());
        b.put(0, datagram);
        try {
            MessageReader m = new MessageReader().wrap(b, 0, datagram.length);
            AttributeReader a = new AttributeReader();
            AttributeReader r = new AttributeReader();
            IoRequest req = new IoRequest();
            while (m.next()) {
                int index = devices.isEmpty() ? 0 : devices.get(0).index();
                m.attributes(a);
                while (a.next()) {
                    if (a.type() == ValetGenl.ATTR_INDEX) {
                        index = a.u32();
                    } else if (a.type() == ValetGenl.ATTR_REQ && req.decode(a.nested(r)).op == ValetGenl.OP_READ
                            && req.hasCookie) {
                        readsOut.put(req.cookie, new long[] {index, req.buf, req.length});
                    }
                }
            }
        } catch (MalformedMessageException e) {
            // a test's deliberately broken message: nothing to pick up
        }
        return datagram;
    }

    static byte[] datagram(Consumer<MessageWriter> build) {
        ByteBuffer out = ByteBuffer.allocateDirect(4 << 20).order(ByteOrder.nativeOrder());
        MessageWriter w = new MessageWriter().wrap(out);
        build.accept(w);
        byte[] bytes = new byte[w.length()];
        out.get(0, bytes);
        return bytes;
    }

    /** An IO message of requests, each written by one consumer into its REQ nest. */
    @SafeVarargs
    static Consumer<MessageWriter> io(Consumer<MessageWriter>... requests) {
        return ioFor(-1, requests);
    }

    /** An IO message with the device's INDEX first (as the driver sends it), unless {@code index} is -1. */
    @SafeVarargs
    static Consumer<MessageWriter> ioFor(int index, Consumer<MessageWriter>... requests) {
        return w -> {
            w.begin(FAMILY, 0, 0, 0).genl(ValetGenl.CMD_IO, ValetGenl.GENL_VERSION);
            if (index >= 0) {
                w.putU32(ValetGenl.ATTR_INDEX, index);
            }
            for (Consumer<MessageWriter> r : requests) {
                w.beginNest(ValetGenl.ATTR_REQ);
                r.accept(w);
                w.endNest();
            }
            w.finish();
        };
    }

    /** A read of {@code length} bytes at {@code offset}, to be put in the data area at {@code buf}. */
    static Consumer<MessageWriter> read(long cookie, long offset, int length, long buf) {
        return w -> w.putU64(ValetGenl.REQ_COOKIE, cookie).putU8(ValetGenl.REQ_OP, ValetGenl.OP_READ)
                .putU64(ValetGenl.REQ_OFFSET, offset).putU32(ValetGenl.REQ_LENGTH, length)
                .putU32(ValetGenl.REQ_BUF, (int) buf);
    }

    /** A write of {@code length} bytes at {@code offset}, whose data is in the data area at {@code buf}. */
    static Consumer<MessageWriter> write(long cookie, long offset, int length, long buf) {
        return w -> w.putU64(ValetGenl.REQ_COOKIE, cookie).putU8(ValetGenl.REQ_OP, ValetGenl.OP_WRITE)
                .putU64(ValetGenl.REQ_OFFSET, offset).putU32(ValetGenl.REQ_LENGTH, length)
                .putU32(ValetGenl.REQ_BUF, (int) buf);
    }

    static Consumer<MessageWriter> flush(long cookie) {
        return w -> w.putU64(ValetGenl.REQ_COOKIE, cookie).putU8(ValetGenl.REQ_OP, ValetGenl.OP_FLUSH);
    }

    /** An NLMSG_ERROR (an acknowledgement when {@code error} is 0), capped, with an extended-ack message. */
    static int error(MessageWriter w, int seq, int error, String message) {
        w.begin(Netlink.NLMSG_ERROR, Netlink.NLM_F_CAPPED | (message != null ? Netlink.NLM_F_ACK_TLVS : 0), seq, 0);
        ByteBuffer b = w.buffer();
        // nlmsgerr: the error, then the request's header (only its seq matters here)
        int at = w.reserveBytes(ErrorDescriptor.MIN_SIZE);
        b.putInt(at + ErrorDescriptor.ERROR_OFFSET, error);
        int echoed = at + ErrorDescriptor.REQUEST_OFFSET;
        b.putInt(echoed + NetlinkHeaderDescriptor.LENGTH_OFFSET, NetlinkHeaderDescriptor.SIZE);
        b.putShort(echoed + NetlinkHeaderDescriptor.TYPE_OFFSET, (short) FAMILY);
        b.putShort(echoed + NetlinkHeaderDescriptor.FLAGS_OFFSET, (short) Netlink.NLM_F_REQUEST);
        b.putInt(echoed + NetlinkHeaderDescriptor.SEQ_OFFSET, seq);
        b.putInt(echoed + NetlinkHeaderDescriptor.PID_OFFSET, 0);
        if (message != null) {
            w.putString(Netlink.NLMSGERR_ATTR_MSG, message);
        }
        return w.finish();
    }

    private void reply(Endpoint to, Consumer<MessageWriter> build) {
        to.deliver(datagram(build));
    }

    private void ack(Endpoint to, int seq, int error, String message) {
        reply(to, w -> error(w, seq, error, message));
    }

    private void handle(Endpoint from, ByteBuffer request) throws IOException {
        MessageReader m = new MessageReader().wrap(request, 0, request.capacity());
        AttributeReader a = new AttributeReader();
        while (m.next()) {
            int seq = m.seq();
            boolean wantsAck = (m.flags() & Netlink.NLM_F_ACK) != 0;
            if (m.type() == Netlink.GENL_ID_CTRL) {
                m.attributes(a);
                String name = null;
                while (a.next()) {
                    if (a.type() == Netlink.CTRL_ATTR_FAMILY_NAME) {
                        name = a.string();
                    }
                }
                if (!familyLoaded || !ValetGenl.GENL_NAME.equals(name)) {
                    ack(from, seq, -Netlink.ENOENT, null);
                    continue;
                }
                reply(from, w -> w.begin(Netlink.GENL_ID_CTRL, 0, seq, 0).genl(Netlink.CTRL_CMD_NEWFAMILY, 2)
                        .putString(Netlink.CTRL_ATTR_FAMILY_NAME, ValetGenl.GENL_NAME)
                        .putU16(Netlink.CTRL_ATTR_FAMILY_ID, FAMILY)
                        .putU32(Netlink.CTRL_ATTR_VERSION, familyVersion)
                        .putU32(Netlink.CTRL_ATTR_HDRSIZE, 0)
                        .putU32(Netlink.CTRL_ATTR_MAXATTR, ValetGenl.ATTR_MAX).finish());
                ack(from, seq, 0, null);
                continue;
            }
            if (m.type() != FAMILY) {
                ack(from, seq, -Netlink.EINVAL, "unknown type");
                continue;
            }
            int cmd = m.command();
            switch (cmd) {
                case ValetGenl.CMD_ATTACH -> {
                    commands.add("ATTACH");
                    m.attributes(a);
                    int version = -1;
                    while (a.next()) {
                        if (a.type() == ValetGenl.ATTR_VERSION) {
                            version = a.u32();
                        }
                    }
                    if (attachError != 0) {
                        ack(from, seq, -attachError, "refused by the test");
                    } else if (version != driverVersion) {
                        ack(from, seq, -Netlink.EPROTO, "valet: ATTACH of VALET version " + version
                                + ", this driver speaks version " + driverVersion);
                    } else {
                        attachedTo = from;
                        synchronized (held) {
                            for (byte[] io : held) {
                                from.deliver(io);
                            }
                            held.clear();
                        }
                        ack(from, seq, 0, null);
                    }
                }
                case ValetGenl.CMD_DETACH -> {
                    commands.add("DETACH");
                    attachedTo = null;
                    ack(from, seq, 0, null);
                }
                case ValetGenl.CMD_STATUS -> {
                    commands.add("STATUS");
                    synchronized (devices) {
                        for (DeviceStatus d : devices) {
                            reply(from, w -> w.begin(FAMILY, 0, seq, 0).genl(ValetGenl.CMD_STATUS, 2)
                                    .putU32(ValetGenl.ATTR_INDEX, d.index()).putU64(ValetGenl.ATTR_SIZE, d.size())
                                    .putU32(ValetGenl.ATTR_QUEUE_DEPTH, d.queueDepth())
                                    .putU32(ValetGenl.ATTR_HOLD_MS, (int) d.holdMillis())
                                    .putU32(ValetGenl.ATTR_IO_TIMEOUT_MS, (int) d.ioTimeoutMillis())
                                    .putU64(ValetGenl.ATTR_DATA_BYTES, d.dataBytes())
                                    .putU64(ValetGenl.ATTR_TIER_BYTES, d.tierBytes())
                                    .putU8(ValetGenl.ATTR_ATTACHED, d.attached() ? 1 : 0)
                                    .putU32(ValetGenl.ATTR_STAT_HELD, (int) d.held())
                                    .putU64(ValetGenl.ATTR_STAT_BUSY, d.busy()).finish());
                        }
                    }
                    ack(from, seq, 0, null);
                }
                case ValetGenl.CMD_CREATE -> {
                    long size = -1;
                    int depth = -1;
                    int hold = -1;
                    int timeout = -1;
                    long dataBytes = ValetGenl.DEF_DATA_BYTES;
                    long tierBytes = 0;
                    m.attributes(a);
                    while (a.next()) {
                        switch (a.type()) {
                            case ValetGenl.ATTR_SIZE -> size = a.u64();
                            case ValetGenl.ATTR_QUEUE_DEPTH -> depth = a.u32();
                            case ValetGenl.ATTR_HOLD_MS -> hold = a.u32();
                            case ValetGenl.ATTR_IO_TIMEOUT_MS -> timeout = a.u32();
                            case ValetGenl.ATTR_DATA_BYTES -> dataBytes = a.u64();
                            case ValetGenl.ATTR_TIER_BYTES -> tierBytes = a.u64();
                            default -> {
                            }
                        }
                    }
                    commands.add("CREATE size=" + size + " depth=" + depth + " hold=" + hold + " timeout=" + timeout
                            + " data=" + dataBytes + (tierBytes != 0 ? " tier=" + tierBytes : ""));
                    int index;
                    synchronized (devices) {
                        index = devices.size();
                        devices.add(new DeviceStatus(index, size, depth, hold, timeout, dataBytes, tierBytes, false, 0,
                                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
                        areas.put(index, AnonymousMemory.map(dataBytes, false));
                        if (tierBytes != 0) {
                            tiers.put(index, AnonymousMemory.map(tierBytes, false)); // zeroed, as vmalloc_user's
                        }
                    }
                    Consumer<MessageWriter> scan = ioDuringCreate;
                    if (scan != null) {
                        CountDownLatch served = new CountDownLatch(1);
                        createIoServed = served;
                        sendIo(scan);
                        try {
                            if (!served.await(10, TimeUnit.SECONDS)) {
                                commands.add("CREATE: the IO sent during CREATE was not completed");
                            }
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                    reply(from, w -> w.begin(FAMILY, 0, seq, 0).genl(ValetGenl.CMD_CREATE, 1)
                            .putU32(ValetGenl.ATTR_INDEX, index).finish());
                    ack(from, seq, 0, null);
                }
                case ValetGenl.CMD_DONE -> {
                    if (from != attachedTo) {
                        ack(from, seq, -Netlink.EPERM, "not the attached daemon");
                        continue;
                    }
                    CountDownLatch gate = doneGate;
                    if (gate != null) {
                        doneBlocked.countDown();
                        try {
                            gate.await();
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                    List<Cpl> cpls = new ArrayList<>();
                    largestDone.accumulateAndGet(request.capacity(), Math::max);
                    m.attributes(a);
                    AttributeReader c = new AttributeReader();
                    while (a.next()) {
                        if (a.type() != ValetGenl.ATTR_CPL || !a.markedNested()) {
                            throw new AssertionError("DONE holds attribute " + a.type());
                        }
                        long cookie = -1;
                        int status = 1;
                        largestCpl.accumulateAndGet(a.payloadLength(), Math::max);
                        a.nested(c);
                        while (c.next()) {
                            cplTypes.add(c.type());
                            switch (c.type()) {
                                case ValetGenl.CPL_COOKIE -> cookie = c.u64();
                                case ValetGenl.CPL_STATUS -> status = c.s32();
                                default -> {
                                }
                            }
                        }
                        long[] read = readsOut.remove(cookie);
                        byte[] bytes = null;
                        if (read != null && status == 0) {
                            bytes = new byte[(int) read[2]];
                            areas.get((int) read[0]).buffer().getBytes((int) read[1], bytes);
                        }
                        cpls.add(new Cpl(cookie, status, bytes));
                    }
                    doneCount.incrementAndGet();
                    doneMessages.add(cpls);
                    CountDownLatch scanned = createIoServed;
                    if (scanned != null) {
                        scanned.countDown();
                    }
                    if (wantsAck) {
                        ack(from, seq, 0, null);
                    }
                }
                default -> ack(from, seq, -Netlink.EOPNOTSUPP, null);
            }
        }
    }
}
