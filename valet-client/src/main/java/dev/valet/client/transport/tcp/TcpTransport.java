package dev.valet.client.transport.tcp;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
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

    /**
     * @param kind               epoll or NIO
     * @param threads            event loop threads (0: netty's default)
     * @param connectTimeout     how long a TCP connect plus HELLO may take
     * @param requestTimeout     how long a request may wait for its reply before the call fails
     * @param maxPagesPerRequest the client's own cap; the donor's frame size may lower it per connection
     */
    public TcpTransport(NettyTransport kind, int threads, Duration connectTimeout, Duration requestTimeout,
                        int maxPagesPerRequest) {
        this.kind = kind;
        this.group = kind.newEventLoopGroup(threads, "valet-client-io");
        this.connectTimeout = connectTimeout;
        this.requestTimeout = requestTimeout;
        this.maxPagesPerRequest = maxPagesPerRequest;
    }

    public NettyTransport kind() {
        return kind;
    }

    @Override
    public String name() {
        return "tcp";
    }

    /** Connects and says HELLO as {@code identity}; completes when the donor has accepted. */
    @Override
    public CompletableFuture<DonorConnection> connect(DonorAddress address, String identity) {
        TcpDonorConnection connection = new TcpDonorConnection(address, requestTimeout, maxPagesPerRequest);
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(kind.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .handler(new io.netty.channel.ChannelInitializer<io.netty.channel.socket.SocketChannel>() {
                    @Override
                    protected void initChannel(io.netty.channel.socket.SocketChannel ch) {
                        ch.pipeline().addLast("frames", new FrameDecoder(FrameHeader.MAX_FRAME_BYTES));
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
            connection.hello(identity).whenComplete((ok, err) -> {
                if (err != null) {
                    connection.close();
                    result.completeExceptionally(err);
                } else {
                    result.complete(connection);
                }
            });
        });
        group.schedule(() -> {
            if (result.completeExceptionally(new DonorUnavailableException(address + ": no HELLO_OK within "
                    + connectTimeout.toMillis() + " ms"))) {
                connect.channel().close();
            }
        }, connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        return result;
    }

    /** Closes every connection and stops the event loops; waits at most a few seconds, never forever. */
    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
