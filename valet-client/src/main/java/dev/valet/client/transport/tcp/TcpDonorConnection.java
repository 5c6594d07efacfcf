package dev.valet.client.transport.tcp;

import dev.valet.client.transport.AdaptiveTimeout;
import dev.valet.client.transport.ClientHandshake;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorControl;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.client.transport.EvictAnswer;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.client.transport.RequestTiming;
import dev.valet.client.transport.WireCounters;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A {@link DonorConnection} over one TCP channel. Requests are pipelined: each gets a request id and a pending
 * entry with a deadline (one scan per connection fails the late ones); frames reach the event loop through an
 * {@link OutboundQueue} (one flush for all that are ready); replies are matched by id, decoded on the event loop,
 * and tell the caller. Page requests (the I/O path) are pooled and answer a callback: they allocate nothing.
 * When the channel closes, every pending request fails with {@link DonorUnavailableException}.
 */
final class TcpDonorConnection extends SimpleChannelInboundHandler<Frame>
        implements DonorConnection, DonorControl.Requests {
    private static final Logger LOG = LoggerFactory.getLogger(TcpDonorConnection.class);
    /** How often pending requests are checked against their deadlines (timeouts are seconds long). */
    static final long DEADLINE_SCAN_MS = 20;

    private final DonorAddress address;
    private final AdaptiveTimeout requestTimeout;
    private final int clientMaxPages;
    private final ClusterSecret secret;
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final PendingRequests pending;
    /** Page frames open for more requests of the same slab, until the event loop takes them. */
    private final OpenFrames openFrames;
    /** Frames waiting for the event loop, which writes them all and flushes once. */
    private final OutboundQueue outbound = new OutboundQueue(this::sendOpenFrames);
    private final WireCounters wire;
    private final RequestTiming timing;
    private final DonorControl control = new DonorControl(this);
    private volatile Channel channel;
    private volatile HelloOk hello;
    private volatile int maxPagesPerRequest;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile DonorRequests donorRequests;

    /**
     * @param secret the cluster secret to prove and demand, or {@code null} for none
     * @param wire   where replies and their round trips are counted
     */
    TcpDonorConnection(DonorAddress address, Duration requestTimeout, int clientMaxPages, ClusterSecret secret,
                       WireCounters wire) {
        this.address = address;
        this.pending = new PendingRequests(address, this::resendAlone);
        this.openFrames = new OpenFrames(pending, nextRequestId::getAndIncrement);
        this.wire = wire;
        this.timing = new RequestTiming(wire, address);
        this.secret = secret;
        this.requestTimeout = new AdaptiveTimeout(requestTimeout);
        this.clientMaxPages = clientMaxPages;
    }

    /**
     * HELLO, and with a secret the rest of the mutual handshake: check the donor's proof, send AUTH, await
     * AUTH_OK. Completes with the donor's HELLO_OK once the connection may carry requests.
     */
    CompletableFuture<HelloOk> hello(String identity) {
        ClientHandshake handshake = new ClientHandshake(address, identity, secret);
        return control.handshake(handshake).whenComplete((ok, e) -> {
            if (e != null && handshake.authFailed()) {
                wire.authFailed();
            }
        }).thenApply(ok -> {
            this.hello = ok;
            this.maxPagesPerRequest = Math.min(clientMaxPages, PageBatch.maxPages(ok.maxFrameBytes()));
            return ok;
        });
    }

    /** The channel, once connected (tests hold its event loop to see what requests ready together become). */
    Channel channel() {
        return channel;
    }

    @Override
    public DonorAddress address() {
        return address;
    }

    @Override
    public HelloOk hello() {
        return hello;
    }

    @Override
    public int maxPagesPerRequest() {
        return maxPagesPerRequest;
    }

    @Override
    public boolean isOpen() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    @Override
    public CompletableFuture<Void> closed() {
        return closed;
    }

    @Override
    public CompletableFuture<DonorStats> stats() {
        return control.stats();
    }

    @Override
    public CompletableFuture<ClientShares> clientShares() {
        return control.clientShares();
    }

    @Override
    public CompletableFuture<Void> allocateSlab(long slabId, long slabBytes) {
        return control.allocateSlab(slabId, slabBytes);
    }

    @Override
    public CompletableFuture<Void> freeSlab(long slabId) {
        return control.freeSlab(slabId);
    }

    @Override
    public CompletableFuture<Void> writePages(long slabId, int count, PageSource source) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        writePages(slabId, count, source, error -> {
            if (error == null) {
                written.complete(null);
            } else {
                written.completeExceptionally(error);
            }
        });
        return written;
    }

    @Override
    public void writePages(long slabId, int count, PageSource source, WriteAnswer answer) {
        Channel ch;
        try {
            DonorControl.checkPageCount(count, maxPagesPerRequest);
            ch = channelOrFail();
        } catch (RuntimeException e) {
            answer.written(e);
            return;
        }
        submit(ch, pending.pageRequest().forWrite(slabId, count, source, answer), false);
    }

    @Override
    public CompletableFuture<ReceivedPages> readPages(long slabId, long[] pageIndexes, int count) {
        CompletableFuture<ReceivedPages> read = new CompletableFuture<>();
        readPages(slabId, pageIndexes, count, (pages, error) -> {
            if (error != null) {
                read.completeExceptionally(error);
                return;
            }
            ByteBuf body = pages.copyBody(); // the pages are valid only during this call
            read.complete(new ReceivedPages(new PageBatch().wrap(body, "READ_PAGES_OK"), body));
        });
        return read;
    }

    @Override
    public void readPages(long slabId, long[] pageIndexes, int count, ReadAnswer answer) {
        Channel ch;
        try {
            DonorControl.checkPageCount(count, maxPagesPerRequest);
            ch = channelOrFail();
        } catch (RuntimeException e) {
            answer.pagesRead(null, e);
            return;
        }
        submit(ch, pending.pageRequest().forRead(slabId, pageIndexes, count, answer), false);
    }

    /**
     * Puts a page request in a frame ({@link OpenFrames}: with other requests for its slab that are ready, or
     * {@code alone}), sends the frames that closed, and makes sure the event loop takes the one left open.
     */
    private void submit(Channel ch, PageRequest request, boolean alone) {
        try {
            openFrames.add(request, maxPagesPerRequest, alone, ch.alloc());
        } catch (RuntimeException e) {
            request.failed(e);
            return;
        }
        sendClosedFrames();
        outbound.wake(ch);
    }

    /** A member of a refused merged frame, sent again in a frame of its own to learn its own answer. */
    private void resendAlone(PageRequest request) {
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            request.failed(new DonorUnavailableException(address + ": connection closed"));
            return;
        }
        submit(ch, request, true);
    }

    /** On the event loop, before it writes: the open frames close and are queued with the rest. */
    private void sendOpenFrames() {
        openFrames.closeAll();
        sendClosedFrames();
    }

    private void sendClosedFrames() {
        for (PageFrame f; (f = openFrames.pollClosed()) != null; ) {
            send(f.id, f.finish(), f);
        }
    }

    @Override
    public CompletableFuture<SlabList> listSlabs() {
        return control.listSlabs();
    }

    @Override
    public CompletableFuture<PageIndex> readIndex(long slabId, long firstPage, int count) {
        return control.readIndex(slabId, firstPage, count);
    }

    @Override
    public CompletableFuture<Long> heartbeat() {
        return control.heartbeat();
    }

    @Override
    public void onDonorRequests(DonorRequests handler) {
        this.donorRequests = handler;
    }

    /** An EVICT from the donor: answered with EVICT_OK (accepted or declined) or, if malformed, an ERROR. */
    private void evict(ChannelHandlerContext ctx, Frame frame) {
        Channel ch = ctx.channel();
        EvictAnswer.of(address, frame.requestId(), frame.body(), donorRequests).thenAccept(answer -> {
            if (ch.isActive()) {
                ch.writeAndFlush(answer.encode(ch.alloc()));
            }
        });
    }

    /** A control request ({@link DonorControl}): its reply is checked like every other and decoded on the loop. */
    @Override
    public <T> CompletableFuture<T> request(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode,
                                            boolean urgent) {
        long id = nextRequestId.getAndIncrement();
        Channel ch = channel;
        if (ch == null) {
            return CompletableFuture.failedFuture(new DonorUnavailableException(address + ": not connected"));
        }
        ByteBuf out = body != null ? Frames.encode(ch.alloc(), opcode, id, body)
                : Frames.encodeEmpty(ch.alloc(), opcode, id);
        return send(id, out, opcode.reply(), f -> decode.apply(f.body()));
    }

    private <T> CompletableFuture<T> send(long id, ByteBuf frame, Opcode expected, Function<Frame, T> decode) {
        PendingRequest.Awaited<T> request = new PendingRequest.Awaited<>(expected, decode);
        send(id, frame, request);
        return request.future;
    }

    private Channel channelOrFail() {
        Channel ch = channel;
        if (ch == null) {
            throw new DonorUnavailableException(address + ": not connected");
        }
        return ch;
    }

    /**
     * Registers {@code request} under {@code id} with its deadline and queues {@code frame} for the event loop,
     * which writes every frame queued by then and flushes once. Fails the request if the connection is closed.
     */
    private void send(long id, ByteBuf frame, PendingRequest request) {
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            frame.release();
            request.failed(new DonorUnavailableException(address + ": connection closed"));
            return;
        }
        pending.add(id, request, requestTimeout.nanos());
        if (!ch.isActive()) {
            // Closed since the check above: channelInactive may have run before the add and missed this request.
            frame.release();
            pending.fail(id, new DonorUnavailableException(address + ": connection closed"));
            return;
        }
        outbound.send(ch, frame);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        super.channelActive(ctx);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        ScheduledFuture<?> scan = channel.eventLoop().scheduleAtFixedRate(pending::expireLate, DEADLINE_SCAN_MS,
                DEADLINE_SCAN_MS, TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(f -> {
            scan.cancel(false);
            closed.complete(null);
        });
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        Opcode op = frame.opcode();
        if (op == Opcode.EVICT) {
            evict(ctx, frame);
            return;
        }
        PendingRequest p = pending.take(frame.requestId());
        if (p == null) {
            if (op == Opcode.ERROR) {
                LOG.warn("{}: donor reports a connection error: {}", address, describeError(frame));
            } else {
                LOG.debug("{}: reply {} to request {} that is no longer waiting", address, op, frame.requestId());
            }
            return;
        }
        requestTimeout.observe(timing.answered(p.expected, p.sentNanos, System.nanoTime()));
        answer(p, frame);
    }

    /** Tells the caller of {@code p} what the donor answered: the reply, its refusal, or a malformed reply. */
    private void answer(PendingRequest p, Frame frame) {
        try {
            DonorException refusal = DonorControl.refusal(address, frame.opcodeCode(), p.expected, frame.body());
            if (refusal != null) {
                p.failed(refusal);
            } else {
                p.replied(frame);
            }
        } catch (ProtocolException e) {
            LOG.warn("{}: malformed reply: {}; closing", address, e.getMessage());
            p.failed(new DonorUnavailableException(address + ": malformed reply: " + e.getMessage()));
            close();
        } catch (RuntimeException e) {
            p.failed(e);
        }
    }

    private static String describeError(Frame frame) {
        try {
            ErrorReply e = ErrorReply.decode(frame.body());
            return e.code() + ": " + e.message();
        } catch (ProtocolException e) {
            return "(malformed ERROR: " + e.getMessage() + ")";
        }
    }

    @Override
    public void abandonPending(String why) {
        pending.failAll(new DonorUnavailableException(address + ": " + why));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        sendOpenFrames(); // fail as they are sent
        outbound.releaseAll();
        pending.failAll(new DonorUnavailableException(address + ": connection closed"));
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        LOG.warn("{}: {}; closing", address, root.toString());
        ctx.close();
    }

    @Override
    public void close() {
        Channel ch = channel;
        if (ch != null) {
            ch.close().syncUninterruptibly();
        }
    }

    @Override
    public String toString() {
        return "donor " + address;
    }
}
