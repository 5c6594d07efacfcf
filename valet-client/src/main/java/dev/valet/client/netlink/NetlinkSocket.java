package dev.valet.client.netlink;

import com.kenai.jffi.MemoryIO;
import dev.valet.common.posix.LibC;
import dev.valet.common.posix.Posix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;

/**
 * An {@code AF_NETLINK} datagram socket bound to a port the kernel picks and connected to the kernel (port 0):
 * a connected netlink socket gets unicasts from its peer only, so no other process can slip messages in. The
 * libc calls go through jnr-ffi with raw addresses of direct buffers, so sending and receiving allocate nothing;
 * the socket's scratch space (addresses, option values) is allocated when it is opened. Failures are
 * {@link NetlinkErrnoException}s naming the call and {@code strerror}.
 *
 * <p>{@link #send} and {@link #receive} may run on two threads at once; they share no scratch space.
 */
public final class NetlinkSocket implements NetlinkEndpoint {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final int fd;
    private final int protocol;
    private final int portId;
    /** sockaddr_nl of the kernel (port 0): what the socket binds to (any port) and connects to. */
    private final ByteBuffer kernel;
    private final long kernelAddress;
    /** The socket's own sockaddr_nl, then a socklen_t, for getsockname. */
    private final ByteBuffer own;
    private final long ownAddress;
    /** Options (setup only, under the monitor): 16 bytes of value, then a socklen_t. */
    private final ByteBuffer option;
    private final long optionAddress;
    private ByteBuffer lastReceiveBuffer;
    private long lastReceiveAddress;
    private boolean closed;

    private NetlinkSocket(int fd, int protocol) throws IOException {
        this.fd = fd;
        this.protocol = protocol;
        this.kernel = direct(SockaddrNlDescriptor.SIZE);
        this.kernelAddress = MEMORY.getDirectBufferAddress(kernel);
        this.own = direct(SockaddrNlDescriptor.SIZE + 4);
        this.ownAddress = MEMORY.getDirectBufferAddress(own);
        this.option = direct(16 + 4);
        this.optionAddress = MEMORY.getDirectBufferAddress(option);
        kernel.putShort(SockaddrNlDescriptor.FAMILY_OFFSET, (short) LibC.AF_NETLINK);
        // bind to port 0: the kernel assigns a unique port id, which getsockname then reports.
        if (LIBC.bind(fd, kernelAddress, SockaddrNlDescriptor.SIZE) != 0) {
            throw failure("bind");
        }
        own.putInt(SockaddrNlDescriptor.SIZE, SockaddrNlDescriptor.SIZE);
        if (LIBC.getsockname(fd, ownAddress, ownAddress + SockaddrNlDescriptor.SIZE) != 0) {
            throw failure("getsockname");
        }
        this.portId = own.getInt(SockaddrNlDescriptor.PID_OFFSET);
        if (LIBC.connect(fd, kernelAddress, SockaddrNlDescriptor.SIZE) != 0) {
            throw failure("connect(netlink, kernel)");
        }
    }

    /**
     * Opens and binds a netlink socket of {@code protocol} ({@link Netlink#NETLINK_GENERIC}). Extended acks
     * (the kernel's error messages) and capped acks (errors do not echo a large request) are asked for; kernels
     * without them are fine.
     */
    public static NetlinkSocket open(int protocol) throws IOException {
        int fd = LIBC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0) {
            throw new NetlinkErrnoException(Posix.lastError("socket(AF_NETLINK, SOCK_RAW, " + protocol + ")"),
                    Posix.errno());
        }
        try {
            NetlinkSocket socket = new NetlinkSocket(fd, protocol);
            socket.trySetOption(Netlink.SOL_NETLINK, Netlink.NETLINK_EXT_ACK, 1);
            socket.trySetOption(Netlink.SOL_NETLINK, Netlink.NETLINK_CAP_ACK, 1);
            return socket;
        } catch (IOException | RuntimeException e) {
            LIBC.close(fd);
            throw e;
        }
    }

    @Override
    public int portId() {
        return portId;
    }

    /**
     * Asks for a receive buffer of {@code bytes}: SO_RCVBUFFORCE first (root may exceed net.core.rmem_max), then
     * SO_RCVBUF (capped by rmem_max). Returns what the kernel then reports (it doubles the request for its
     * bookkeeping).
     */
    public synchronized int setReceiveBufferSize(int bytes) throws IOException {
        return setBufferSize(LibC.SO_RCVBUFFORCE, LibC.SO_RCVBUF, bytes);
    }

    /** As {@link #setReceiveBufferSize}, for the send buffer (which bounds the largest message sent). */
    public synchronized int setSendBufferSize(int bytes) throws IOException {
        return setBufferSize(LibC.SO_SNDBUFFORCE, LibC.SO_SNDBUF, bytes);
    }

    private int setBufferSize(int force, int plain, int bytes) throws IOException {
        option.putInt(0, bytes);
        if (LIBC.setsockopt(fd, LibC.SOL_SOCKET, force, optionAddress, 4) != 0
                && LIBC.setsockopt(fd, LibC.SOL_SOCKET, plain, optionAddress, 4) != 0) {
            throw failure("setsockopt(" + (plain == LibC.SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF") + ", " + bytes + ")");
        }
        return getIntOption(LibC.SOL_SOCKET, plain);
    }

    /** How long {@link #receive} waits before returning {@link #RECEIVE_TIMEOUT}; zero waits forever. */
    public synchronized void setReceiveTimeout(Duration timeout) throws IOException {
        option.putLong(0, timeout.getSeconds());
        option.putLong(8, timeout.getNano() / 1000);
        if (LIBC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, optionAddress, 16) != 0) {
            throw failure("setsockopt(SO_RCVTIMEO)");
        }
    }

    /** Sets an int option; false (and nothing thrown) when the kernel does not know it. */
    public synchronized boolean trySetOption(int level, int name, int value) {
        option.putInt(0, value);
        return LIBC.setsockopt(fd, level, name, optionAddress, 4) == 0;
    }

    public synchronized int getIntOption(int level, int name) throws IOException {
        option.putInt(0, 0);
        option.putInt(16, 4);
        if (LIBC.getsockopt(fd, level, name, optionAddress, optionAddress + 16) != 0) {
            throw failure("getsockopt(" + level + ", " + name + ")");
        }
        return option.getInt(0);
    }

    @Override
    public void send(ByteBuffer buffer, int offset, int length) throws IOException {
        if (offset < 0 || length < 0 || offset + length > buffer.capacity()) {
            throw new IndexOutOfBoundsException("region " + offset + "+" + length + " of " + buffer.capacity());
        }
        long address = MEMORY.getDirectBufferAddress(buffer) + offset;
        while (true) {
            long sent = LIBC.send(fd, address, length, 0);
            if (sent == length) {
                return;
            }
            if (sent >= 0) {
                throw new IOException("send(netlink) sent " + sent + " of " + length + " bytes");
            }
            if (Posix.errno() != Netlink.EINTR) {
                throw failure("send(netlink, " + length + " bytes)");
            }
        }
    }

    @Override
    public int receive(ByteBuffer buffer) throws IOException {
        long address;
        if (buffer == lastReceiveBuffer) {
            address = lastReceiveAddress;
        } else {
            address = MEMORY.getDirectBufferAddress(buffer);
            lastReceiveBuffer = buffer;
            lastReceiveAddress = address;
        }
        int capacity = buffer.capacity();
        while (true) {
            // MSG_TRUNC: the result is the datagram's real length, so one too big for the buffer is noticed.
            long n = LIBC.recv(fd, address, capacity, LibC.MSG_TRUNC);
            if (n < 0) {
                int errno = Posix.errno();
                if (errno == Netlink.EINTR) {
                    continue;
                }
                if (errno == Netlink.EAGAIN) {
                    return RECEIVE_TIMEOUT;
                }
                if (errno == Netlink.ENOBUFS) {
                    return RECEIVE_OVERRUN;
                }
                throw failure("recv(netlink)");
            }
            if (n > capacity) {
                throw new MalformedMessageException("a datagram of " + n + " bytes did not fit in the " + capacity
                        + "-byte receive buffer and was lost");
            }
            return (int) n;
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LIBC.close(fd);
        }
    }

    @Override
    public String toString() {
        return "netlink socket (protocol " + protocol + ", port " + Integer.toUnsignedString(portId) + ")";
    }

    private static ByteBuffer direct(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
    }

    private static NetlinkErrnoException failure(String call) {
        int errno = Posix.errno();
        return new NetlinkErrnoException(Posix.lastError(call), errno);
    }
}
