package dev.valet.client.transport.tcp;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.TransportSecurity;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Opens {@link DonorConnection}s over TCP. Owns the event loops every connection it opens runs on; closing it
 * closes them all.
 */
public final class TcpTransport implements DonorTransport {
    private final NettyTransport kind;
    private final EventLoopGroup group;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final int maxPagesPerRequest;
    private final TransportSecurity security;
    private final WireCounters wire = new WireCounters();
    private final WireCounting wireCounting = new WireCounting(wire);

    /** A transport without authentication or TLS, to donors on loopback. */
    public TcpTransport(NettyTransport kind, int threads, Duration connectTimeout, Duration requestTimeout,
                        int maxPagesPerRequest) {
        this(kind, threads, connectTimeout, requestTimeout, maxPagesPerRequest, TransportSecurity.NONE);
    }

    /** The transport {@code valet.yaml} describes: its netty kind, timeouts, frame size, secret and TLS. */
    public static TcpTransport of(ClientConfig config, int threads) {
        return new TcpTransport(NettyTransport.select(), threads, config.connectTimeout(),
                config.requestTimeout(), config.maxPagesPerFrame(), TransportSecurity.of(config));
    }

    /**
     * @param kind               epoll or NIO
     * @param threads            event loop threads (0: netty's default)
     * @param connectTimeout     how long a TCP connect plus HELLO may take
     * @param requestTimeout     how long a request may wait for its reply before the call fails
     * @param maxPagesPerRequest the client's own cap; the donor's frame size may lower it per connection
     * @param security           the cluster secret and TLS every connection uses
     */
    public TcpTransport(NettyTransport kind, int threads, Duration connectTimeout, Duration requestTimeout,
                        int maxPagesPerRequest, TransportSecurity security) {
        this.kind = kind;
        this.group = kind.newEventLoopGroup(threads, "valet-client-io");
        this.connectTimeout = connectTimeout;
        this.requestTimeout = requestTimeout;
        this.maxPagesPerRequest = maxPagesPerRequest;
        this.security = security;
    }

    public NettyTransport kind() {
        return kind;
    }

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public EventLoopGroup eventLoops() {
        return group;
    }

    @Override
    public WireCounters wire() {
        return wire;
    }

    /**
     * Connects (through TLS when configured), says HELLO as {@code identity} and, with a cluster secret, runs the
     * mutual handshake; completes when the donor has accepted. A donor that cannot prove the secret, or a
     * non-loopback donor when this client has no secret and may not talk unauthenticated, is refused.
     */
    @Override
    public CompletableFuture<DonorConnection> connect(DonorAddress address, String identity,
                                                      Duration handshakeTimeout) {
        Duration timeout = handshakeTimeout != null ? handshakeTimeout : connectTimeout;
        String refusal = security.refusal(address);
        if (refusal != null) {
            return CompletableFuture.failedFuture(new DonorUnavailableException(refusal));
        }
        TcpDonorConnection connection = new TcpDonorConnection(address, requestTimeout, maxPagesPerRequest,
                security.secret(), wire);
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(kind.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (security.tls() != null) {
                            ch.pipeline().addLast("tls", security.tls().newHandler(ch.alloc(), address.host(),
                                    address.port()));
                        }
                        // Requests queued together (from any thread) leave in one flush, one syscall (the
                        // connection's OutboundQueue); flushes while a read is handled wait for its end. The donor
                        // answers what one read brought in one flush too (DonorHandler.channelReadComplete).
                        ch.pipeline().addLast("wire", wireCounting);
                        ch.pipeline().addLast("flushes", new FlushConsolidationHandler(
                                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, false));
                        ch.pipeline().addLast("frames", FrameDecoder.inPlace(FrameHeader.MAX_FRAME_BYTES));
                        ch.pipeline().addLast("donor", connection);
                    }
                });
        CompletableFuture<DonorConnection> result = new CompletableFuture<>();
        ChannelFuture connect = bootstrap.connect(address.toSocketAddress());
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new DonorUnavailableException(address + ": cannot connect: "
                        + f.cause().getMessage(), f.cause()));
                return;
            }
            SslHandler tls = connect.channel().pipeline().get(SslHandler.class);
            if (tls == null) {
                hello(connection, identity, result);
                return;
            }
            tls.handshakeFuture().addListener(h -> {
                if (h.isSuccess()) {
                    hello(connection, identity, result);
                } else {
                    connection.close();
                    result.completeExceptionally(new DonorUnavailableException(address + ": TLS handshake failed: "
                            + h.cause().getMessage(), h.cause()));
                }
            });
        });
        group.schedule(() -> {
            if (result.completeExceptionally(DonorUnavailableException.timeout(address + ": no HELLO_OK within "
                    + timeout.toMillis() + " ms"))) {
                connect.channel().close();
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        return result;
    }

    private static void hello(TcpDonorConnection connection, String identity,
                              CompletableFuture<DonorConnection> result) {
        connection.hello(identity).whenComplete((ok, err) -> {
            if (err != null) {
                connection.close();
                result.completeExceptionally(err instanceof CompletionException && err.getCause() != null
                        ? err.getCause() : err);
            } else {
                result.complete(connection);
            }
        });
    }

    /** Closes every connection and stops the event loops; waits at most a few seconds, never forever. */
    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
