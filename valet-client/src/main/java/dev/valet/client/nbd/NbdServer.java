package dev.valet.client.nbd;

import dev.valet.client.kernel.PageStore;
import dev.valet.common.config.NbdConfig;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Serves one NBD export over a page store, on a unix socket ({@code unix:/path}, which needs netty's native epoll)
 * or TCP ({@code tcp:host:port}). Each connection gets its own {@link NbdHandshake}; any number may be open at
 * once (the export says multi-conn). {@link #close()} closes the listener and every connection.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    private static final int THREADS = 2;

    private final EventLoopGroup group;
    /** The group is the engine's, not this server's to shut down. */
    private final boolean sharedGroup;
    private final ChannelGroup channels;
    private final Channel listener;
    private final Path socketPath;
    private final String endpoint;

    private NbdServer(EventLoopGroup group, boolean sharedGroup, ChannelGroup channels, Channel listener,
            Path socketPath, String endpoint) {
        this.group = group;
        this.sharedGroup = sharedGroup;
        this.channels = channels;
        this.listener = listener;
        this.socketPath = socketPath;
        this.endpoint = endpoint;
    }

    /**
     * Binds {@code config.listen()} and serves {@code export} from {@code store}; with {@code tls}, clients must
     * start TLS first (NBD_OPT_STARTTLS: {@link NbdHandshake}). With {@code engineLoops} (the
     * engine's {@link dev.valet.client.engine.Engine#eventLoops}, when it is of the kind the endpoint needs) each
     * connection runs on one of the loops the donors' connections run on, so a request and its answer change threads
     * only where the loops differ; else on two loops of its own.
     *
     * @throws IOException when the endpoint cannot be bound (in use, no permission, a unix socket without epoll)
     */
    public static NbdServer start(NbdConfig config, SslContext tls, NbdExport export, PageStore store,
            EventLoopGroup engineLoops) throws IOException {
        String unix = config.unixPath();
        if (unix != null && !Epoll.isAvailable()) {
            throw new IOException("nbd.listen " + config.listen() + ": a unix socket needs netty's native epoll,"
                    + " which cannot be loaded here: " + Epoll.unavailabilityCause());
        }
        NettyTransport shared = engineLoops == null ? null : NettyTransport.of(engineLoops);
        boolean share = shared != null && (unix == null || shared == NettyTransport.EPOLL);
        NettyTransport transport = share ? shared : unix != null ? NettyTransport.EPOLL : NettyTransport.select();
        EventLoopGroup group = share ? engineLoops : transport.newEventLoopGroup(THREADS, "valet-nbd");
        ChannelGroup channels = new DefaultChannelGroup("nbd", GlobalEventExecutor.INSTANCE);
        ServerBootstrap bootstrap = new ServerBootstrap().group(group)
                .channel(unix != null ? EpollServerDomainSocketChannel.class : transport.serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channels.add(ch);
                        // Replies written together (one task-queue run of answers from the engine) leave in one
                        // flush, one syscall.
                        ch.pipeline().addLast("flushes", new FlushConsolidationHandler(
                                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
                        ch.pipeline().addLast("nbd-handshake", new NbdHandshake(export, store, tls));
                        ch.pipeline().addLast("nbd-errors", new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                LOG.warn("nbd {}: closed after an unexpected error", ch.remoteAddress(), cause);
                            }
                        });
                    }
                });
        Path socketPath = null;
        try {
            Channel listener;
            if (unix != null) {
                socketPath = Path.of(unix);
                removeStaleSocket(socketPath);
                listener = bootstrap.bind(new DomainSocketAddress(unix)).sync().channel();
            } else {
                bootstrap.childOption(ChannelOption.TCP_NODELAY, true);
                DonorAddress address = config.tcpAddress();
                InetSocketAddress bindTo = address.toSocketAddress();
                listener = bootstrap.bind(bindTo).sync().channel();
            }
            return new NbdServer(group, share, channels, listener, socketPath, config.listen());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (!share) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            throw new IOException("interrupted binding nbd.listen " + config.listen(), e);
        } catch (RuntimeException e) {
            if (!share) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            throw new IOException("cannot serve NBD at " + config.listen() + ": " + e.getMessage(), e);
        }
    }

    /** A file left at the socket's path by an earlier run that was killed; anything else is refused. */
    private static void removeStaleSocket(Path path) throws IOException {
        if (Files.exists(path)) {
            if (Files.isRegularFile(path) || Files.isDirectory(path)) {
                throw new IOException("nbd.listen: " + path + " exists and is not a socket");
            }
            Files.delete(path);
        }
    }

    /** The endpoint as configured, for logs ({@code unix:/run/valet/nbd.sock}). */
    public String endpoint() {
        return endpoint;
    }

    /** The bound TCP port (the configured one, or the one chosen for port 0); -1 on a unix socket. */
    public int port() {
        return listener.localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (!sharedGroup) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        if (socketPath != null) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", socketPath, e.toString());
            }
        }
    }
}
