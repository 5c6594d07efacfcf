package dev.valet.common.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * Which netty transport the TCP path runs on: native epoll where the platform has it, NIO otherwise. Donor and
 * client choose the same way; not configurable (the {@code transport} key chooses TCP or RDMA).
 */
public enum NettyTransport {
    EPOLL, NIO;

    /**
     * Netty's buffer settings for a daemon's paging path, each unless its own system property is set; call it
     * first thing in {@code main}, before netty allocates a buffer.
     * <ul>
     * <li>The buffer leak detector off ({@code io.netty.leakDetection.level}): at its default level it samples one
     * buffer in 128 and records a stack trace for it, kilobytes per sample, which was most of what a request still
     * allocated (docs/performance.md). Tests keep it on.</li>
     * <li>Large buffers pooled whatever the heap ({@code io.netty.allocator.lowMemory=false}): netty's allocator
     * calls a JVM whose heap is under 512 MiB "low memory" - and the daemons' heaps are small on purpose (the VM
     * lab's client 192m, its donors 128m; the client's default 512m counts as less under the serial collector) -
     * and then takes fresh direct memory, freed again through a Cleaner, for every buffer beyond its small size
     * classes: each merged frame, each receive of a many-page reply. In the VM lab's swap workload that was a fifth
     * of the event loops' samples, client and donors alike (docs/performance.md), and fresh memory on the paging
     * path.</li>
     * </ul>
     */
    public static void daemonBufferSettings() {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        if (System.getProperty("io.netty.allocator.lowMemory") == null) {
            System.setProperty("io.netty.allocator.lowMemory", "false");
        }
    }

    /** The kind of {@code group}'s loops, or null when it is neither (not made by {@link #newEventLoopGroup}). */
    public static NettyTransport of(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io) {
            if (io.isIoType(EpollIoHandler.class)) {
                return EPOLL;
            }
            if (io.isIoType(NioIoHandler.class)) {
                return NIO;
            }
        }
        return null;
    }

    /** Native epoll when netty can load it, NIO otherwise. */
    public static NettyTransport select() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** An event loop group of {@code threads} threads (0: netty's default, twice the cores) named {@code name}. */
    public EventLoopGroup newEventLoopGroup(int threads, String name) {
        IoHandlerFactory factory = this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
    }

    public Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends SocketChannel> socketChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
