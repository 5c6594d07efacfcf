package dev.valet.donor.server;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.net.TlsContexts;
import dev.valet.common.config.TransportChoice;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.HelloOk;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.memory.MemInfo;
import dev.valet.donor.server.rdma.RdmaDonorListener;
import dev.valet.donor.store.SlabStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The donor daemon's TCP side: binds the listen address, runs one {@link DonorHandler} per connection on netty
 * event loops, starts the RDMA listener beside it when {@code transport} asks (see {@link RdmaDonorListener}), and
 * samples the host's free memory on a timer. {@link #close()} stops accepting, closes every connection and unmaps every
 * slab.
 */
public final class DonorServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DonorServer.class);

    private final DonorConfig config;
    private final Donor donor;
    private final SlabStore store;
    private final ClusterSecret secret;
    private final SslContext tls;
    private final NettyTransport transport;
    private final EventLoopGroup group;
    private final ScheduledExecutorService sampler;
    private final MemInfo memInfo;
    private Channel serverChannel;
    private RdmaDonorListener rdma;
    private boolean closed;

    /**
     * @throws IllegalStateException when the donor would listen beyond loopback without authentication and
     *                               {@code auth.allowUnauthenticated} is not set
     * @throws IllegalArgumentException when the secret or TLS files cannot be used
     */
    public DonorServer(DonorConfig config) {
        this(config, MemInfo.system());
    }

    /** A donor whose host free memory is read through {@code memInfo} (the test hook points it at a file). */
    public DonorServer(DonorConfig config, MemInfo memInfo) {
        this.config = config;
        this.memInfo = memInfo;
        String exposure = config.unauthenticatedExposure();
        if (exposure != null) {
            throw new IllegalStateException(exposure);
        }
        this.secret = config.auth().loadSecret().orElse(null);
        this.tls = TlsContexts.forServer(config.tls()).orElse(null);
        this.store = new SlabStore(config.memory().bytes(), config.maxSlabBytes().bytes(), config.lockMemory(),
                config.limits().maxSlabsPerClient());
        long intervalNanos = config.memorySampleInterval().toNanos();
        int windowSamples = (int) Math.max(1, config.gradientWindow().toNanos() / intervalNanos);
        long instanceId = new SecureRandom().nextLong() | 1L;
        int maxFrame = (int) config.maxFrameBytes().bytes();
        this.donor = new Donor(store, new FreeMemoryTrend(config.ewmaWeight(), windowSamples),
                new HelloOk(instanceId, FrameHeader.PAGE_SIZE, maxFrame, config.maxSlabBytes().bytes()),
                config.headroom(), secret, config.limits());
        this.transport = NettyTransport.select();
        this.group = transport.newEventLoopGroup(0, "valet-donor-io");
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "valet-donor-memory");
            t.setDaemon(true);
            return t;
        });
    }

    /** Binds and starts serving; returns the bound address (the real port when the config asked for port 0). */
    public InetSocketAddress start() throws InterruptedException {
        sampleFreeMemory();
        long interval = config.memorySampleInterval().toNanos();
        sampler.scheduleAtFixedRate(this::sampleFreeMemory, interval, interval, TimeUnit.NANOSECONDS);

        int maxFrame = donor.maxFrameBytes();
        long idleNanos = config.limits().idleTimeout().toNanos();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(maxFrame, 4 * maxFrame))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast("idle", new IdleStateHandler(idleNanos, 0, 0, TimeUnit.NANOSECONDS));
                        ch.pipeline().addLast("frames", FrameDecoder.inPlace(maxFrame));
                        ch.pipeline().addLast("donor", new DonorHandler(donor));
                    }
                });
        InetSocketAddress listen = config.listen().toSocketAddress();
        serverChannel = bootstrap.bind(listen).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        LOG.info("valet-donor listening on {} ({} transport): lending up to {} bytes, slabs up to {} bytes, "
                        + "frames up to {} bytes, memory {}locked; headroom: evict below {} free, expand above {},"
                        + " victims {}, evictTimeout {} ms; free memory from {}", bound, transport,
                store.lendLimitBytes(), config.maxSlabBytes().bytes(), maxFrame, config.lockMemory() ? "" : "not ",
                config.headroom().evictBelow(), config.headroom().expandAbove(), config.headroom().victim(),
                config.headroom().evictTimeout().toMillis(), memInfo.file());
        LOG.info("clients {}, over {}; at most {} clients, {} slabs each, {} requests in flight per connection",
                secret != null ? "must prove the cluster secret in " + secret.file() : "are not authenticated",
                tls != null ? "TLS" : "plain TCP", config.limits().maxClients(), config.limits().maxSlabsPerClient(),
                config.limits().maxInFlightPerConnection());
        if (secret == null) {
            LOG.warn("no auth.secretFile: any client that can reach {} can use this donor{}", bound,
                    config.listen().isLoopback() ? " (loopback only: fine for development)"
                            : " (auth.allowUnauthenticated is set)");
        }
        startRdma(bound);
        return bound;
    }

    /** RDMA beside TCP, on the same address and port number (rdma_cm's own port space), as the config asks. */
    private void startRdma(InetSocketAddress bound) {
        if (config.transport() == TransportChoice.TCP) {
            return;
        }
        if (config.tls().enabled()) {
            // One-sided RDMA bypasses TLS: a donor that demands TLS serves TCP only.
            if (config.transport() == TransportChoice.RDMA) {
                serverChannel.close().syncUninterruptibly();
                throw new IllegalStateException("transport rdma cannot be combined with tls.enabled: RDMA traffic is"
                        + " not encrypted; use transport tcp (or auto, which then serves TCP only)");
            }
            LOG.info("valet-donor serves TCP only: tls.enabled (RDMA traffic would not be encrypted)");
            return;
        }
        try {
            rdma = RdmaDonorListener.start(donor, bound);
        } catch (IOException | RuntimeException e) {
            if (config.transport() == TransportChoice.RDMA) {
                serverChannel.close().syncUninterruptibly();
                throw new IllegalStateException("transport rdma: cannot serve RDMA on " + bound + ": "
                        + e.getMessage(), e);
            }
            LOG.info("valet-donor serves TCP only: RDMA unavailable ({})", e.getMessage());
        }
    }

    /** True when this donor also serves RDMA. */
    public boolean servesRdma() {
        return rdma != null;
    }

    public Donor donor() {
        return donor;
    }

    private void sampleFreeMemory() {
        try {
            donor.sample(System.nanoTime(), memInfo.availableBytes());
        } catch (RuntimeException e) {
            LOG.warn("free-memory sample failed", e);
        }
    }

    /** Blocks until the server channel closes (by {@link #close()}). */
    public void awaitClose() throws InterruptedException {
        serverChannel.closeFuture().sync();
    }

    /** Idempotent: the signal handler, the shutdown hook and the main thread may all call it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("valet-donor shutting down: {} slabs ({} bytes) to release", store.slabCount(),
                store.lentBytes());
        sampler.shutdownNow();
        if (rdma != null) {
            rdma.close();
        }
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        store.close();
        LOG.info("valet-donor stopped");
    }
}
