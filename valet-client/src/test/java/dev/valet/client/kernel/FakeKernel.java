package dev.valet.client.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The valet driver and nlctrl as the daemon sees them through its netlink endpoints: enough of the contract to
 * run {@link KernelChannel} on a host without valet.ko. It answers GETFAMILY, STATUS, CREATE, ATTACH and DETACH
 * like the header says, sends IO messages built by the test, and records every DONE.
 */
final class FakeKernel {
    static final int FAMILY = 0x1d;

    /** One CPL of a DONE message. */
    record Cpl(long cookie, int status, byte[] data) {
    }

    final List<DeviceStatus> devices = new ArrayList<>();
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
        data.deliver(datagram(build));
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

    static Consumer<MessageWriter> read(long cookie, long offset, int length) {
        return w -> w.putU64(ValetGenl.REQ_COOKIE, cookie).putU8(ValetGenl.REQ_OP, ValetGenl.OP_READ)
                .putU64(ValetGenl.REQ_OFFSET, offset).putU32(ValetGenl.REQ_LENGTH, length);
    }

    static Consumer<MessageWriter> write(long cookie, long offset, byte[] data) {
        ByteBuffer d = ByteBuffer.allocateDirect(data.length);
        d.put(0, data);
        return w -> w.putU64(ValetGenl.REQ_COOKIE, cookie).putU8(ValetGenl.REQ_OP, ValetGenl.OP_WRITE)
                .putU64(ValetGenl.REQ_OFFSET, offset).putU32(ValetGenl.REQ_LENGTH, data.length)
                .putBytes(ValetGenl.REQ_DATA, d, 0, data.length);
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
                        .putU32(Netlink.CTRL_ATTR_VERSION, ValetGenl.GENL_VERSION)
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
                    } else if (version != ValetGenl.GENL_VERSION) {
                        ack(from, seq, -Netlink.EINVAL, "bad version");
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
                            reply(from, w -> w.begin(FAMILY, 0, seq, 0).genl(ValetGenl.CMD_STATUS, 1)
                                    .putU32(ValetGenl.ATTR_INDEX, d.index()).putU64(ValetGenl.ATTR_SIZE, d.size())
                                    .putU32(ValetGenl.ATTR_QUEUE_DEPTH, d.queueDepth())
                                    .putU32(ValetGenl.ATTR_HOLD_MS, (int) d.holdMillis())
                                    .putU32(ValetGenl.ATTR_IO_TIMEOUT_MS, (int) d.ioTimeoutMillis())
                                    .putU8(ValetGenl.ATTR_ATTACHED, d.attached() ? 1 : 0)
                                    .putU32(ValetGenl.ATTR_STAT_HELD, (int) d.held()).finish());
                        }
                    }
                    ack(from, seq, 0, null);
                }
                case ValetGenl.CMD_CREATE -> {
                    long size = -1;
                    int depth = -1;
                    int hold = -1;
                    int timeout = -1;
                    m.attributes(a);
                    while (a.next()) {
                        switch (a.type()) {
                            case ValetGenl.ATTR_SIZE -> size = a.u64();
                            case ValetGenl.ATTR_QUEUE_DEPTH -> depth = a.u32();
                            case ValetGenl.ATTR_HOLD_MS -> hold = a.u32();
                            case ValetGenl.ATTR_IO_TIMEOUT_MS -> timeout = a.u32();
                            default -> {
                            }
                        }
                    }
                    commands.add("CREATE size=" + size + " depth=" + depth + " hold=" + hold + " timeout=" + timeout);
                    int index;
                    synchronized (devices) {
                        index = devices.size();
                        devices.add(new DeviceStatus(index, size, depth, hold, timeout, false, 0, 0, 0, 0, 0, 0, 0, 0,
                                0, 0));
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
                    m.attributes(a);
                    AttributeReader c = new AttributeReader();
                    while (a.next()) {
                        if (a.type() != ValetGenl.ATTR_CPL || !a.markedNested()) {
                            throw new AssertionError("DONE holds attribute " + a.type());
                        }
                        long cookie = -1;
                        int status = 1;
                        byte[] bytes = null;
                        a.nested(c);
                        while (c.next()) {
                            switch (c.type()) {
                                case ValetGenl.CPL_COOKIE -> cookie = c.u64();
                                case ValetGenl.CPL_STATUS -> status = c.s32();
                                case ValetGenl.CPL_DATA -> {
                                    bytes = new byte[c.payloadLength()];
                                    c.buffer().get(c.payloadOffset(), bytes);
                                }
                                default -> throw new AssertionError("CPL holds attribute " + c.type());
                            }
                        }
                        cpls.add(new Cpl(cookie, status, bytes));
                    }
                    doneCount.incrementAndGet();
                    doneMessages.add(cpls);
                    if (wantsAck) {
                        ack(from, seq, 0, null);
                    }
                }
                default -> ack(from, seq, -Netlink.EOPNOTSUPP, null);
            }
        }
    }
}
