package dev.valet.client.nbd;

import dev.valet.client.kernel.PageStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The fixed newstyle handshake of one connection: sends the greeting, reads the client's flags, and answers
 * options until NBD_OPT_GO or NBD_OPT_EXPORT_NAME, when it puts the transmission phase's handlers in its place.
 * A client that does not speak fixed newstyle, sets an unknown flag, sends a wrong magic or an option longer than
 * {@link #MAX_OPTION_BYTES} is disconnected; a malformed option gets NBD_REP_ERR_INVALID, an unknown one
 * NBD_REP_ERR_UNSUP. With a TLS context TLS is required: until NBD_OPT_STARTTLS has been answered and TLS set up,
 * every option but STARTTLS and ABORT gets NBD_REP_ERR_TLS_REQD (NBD_OPT_EXPORT_NAME, which cannot be refused, a
 * disconnect); without one, STARTTLS gets NBD_REP_ERR_POLICY.
 */
final class NbdHandshake extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(NbdHandshake.class);
    /** Longest option data accepted (an export name is at most 4096 bytes). */
    static final int MAX_OPTION_BYTES = 16384;

    private final NbdExport export;
    private final PageStore store;
    /** TLS the client must start first, or null when it is not offered. */
    private final SslContext tls;
    private boolean tlsStarted;
    private boolean flagsRead;
    /** After NBD_OPT_ABORT or a hang-up: whatever else arrives is dropped. */
    private boolean finished;
    private boolean noZeroes;

    NbdHandshake(NbdExport export, PageStore store, SslContext tls) {
        this.export = export;
        this.store = store;
        this.tls = tls;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        NbdReplies.greeting(ctx);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (finished) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (!flagsRead) {
            if (in.readableBytes() < 4) {
                return;
            }
            int flags = in.readInt();
            if ((flags & ~(NbdProtocol.CLIENT_FLAG_FIXED_NEWSTYLE | NbdProtocol.CLIENT_FLAG_NO_ZEROES)) != 0
                    || (flags & NbdProtocol.CLIENT_FLAG_FIXED_NEWSTYLE) == 0) {
                hangUp(ctx, in, "client flags 0x" + Integer.toHexString(flags) + " (fixed newstyle is required)");
                return;
            }
            noZeroes = (flags & NbdProtocol.CLIENT_FLAG_NO_ZEROES) != 0;
            flagsRead = true;
        }
        while (ctx.channel().isActive() && in.readableBytes() >= 16) {
            int start = in.readerIndex();
            if (in.getLong(start) != NbdProtocol.IHAVEOPT) {
                hangUp(ctx, in, "an option without IHAVEOPT");
                return;
            }
            int option = in.getInt(start + 8);
            int length = in.getInt(start + 12);
            if (length < 0 || length > MAX_OPTION_BYTES) {
                hangUp(ctx, in, "option " + option + " of " + Integer.toUnsignedString(length) + " bytes");
                return;
            }
            if (in.readableBytes() < 16 + length) {
                return;
            }
            in.skipBytes(16);
            ByteBuf data = in.readSlice(length);
            if (option(ctx, option, data)) {
                return;
            }
        }
    }

    /** Answers one option; true when the handshake is over (transmission, or the client aborted or must). */
    private boolean option(ChannelHandlerContext ctx, int option, ByteBuf data) {
        if (tls != null && !tlsStarted && option != NbdProtocol.OPT_STARTTLS && option != NbdProtocol.OPT_ABORT) {
            if (option == NbdProtocol.OPT_EXPORT_NAME) {
                hangUp(ctx, data, "NBD_OPT_EXPORT_NAME before STARTTLS, which this server requires");
                return true;
            }
            NbdReplies.error(ctx, option, NbdProtocol.REP_ERR_TLS_REQD, "this server requires TLS: NBD_OPT_STARTTLS");
            ctx.flush();
            return false;
        }
        switch (option) {
            case NbdProtocol.OPT_EXPORT_NAME -> {
                NbdReplies.exportName(ctx, export, noZeroes);
                startTransmission(ctx);
                return true;
            }
            case NbdProtocol.OPT_ABORT -> {
                NbdReplies.ack(ctx, option);
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                finished = true;
                return true;
            }
            case NbdProtocol.OPT_LIST -> {
                if (data.isReadable()) {
                    NbdReplies.error(ctx, option, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                } else {
                    NbdReplies.server(ctx, option, export.name());
                    NbdReplies.ack(ctx, option);
                }
            }
            case NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO -> {
                if (info(ctx, option, data) && option == NbdProtocol.OPT_GO) {
                    startTransmission(ctx);
                    return true;
                }
            }
            case NbdProtocol.OPT_STARTTLS -> {
                return startTls(ctx, option, data);
            }
            default -> NbdReplies.error(ctx, option, NbdProtocol.REP_ERR_UNSUP,
                    "option " + option + " is not supported");
        }
        ctx.flush();
        return false;
    }

    /**
     * NBD_OPT_STARTTLS: refused when TLS is not offered, already running or the option has data; else acknowledged
     * in clear, and TLS goes first in the pipeline once the acknowledgement is on the wire (the client starts its
     * TLS handshake only after reading it). The options that follow come through TLS. True when the connection
     * closes (bytes after STARTTLS that came before the acknowledgement could have).
     */
    private boolean startTls(ChannelHandlerContext ctx, int option, ByteBuf data) {
        if (tls == null) {
            NbdReplies.error(ctx, option, NbdProtocol.REP_ERR_POLICY,
                    "this endpoint does not offer TLS (a unix socket, or tls is not enabled)");
        } else if (tlsStarted || data.isReadable()) {
            NbdReplies.error(ctx, option, NbdProtocol.REP_ERR_INVALID,
                    tlsStarted ? "TLS is already running" : "NBD_OPT_STARTTLS takes no data");
        } else if (actualReadableBytes() > 0) {
            hangUp(ctx, internalBuffer(), "bytes after NBD_OPT_STARTTLS before its reply");
            return true;
        } else {
            tlsStarted = true;
            NbdReplies.ack(ctx, option);
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    ctx.pipeline().addFirst("tls", tls.newHandler(ctx.alloc()));
                } else {
                    ctx.close();
                }
            });
            return false;
        }
        ctx.flush();
        return false;
    }

    /** NBD_OPT_INFO or NBD_OPT_GO: checks the data, sends the export's information; false if malformed. */
    private boolean info(ChannelHandlerContext ctx, int option, ByteBuf data) {
        int length = data.readableBytes();
        int nameLength = length >= 6 ? data.getInt(data.readerIndex()) : -1;
        int requests = nameLength >= 0 && nameLength <= length - 6
                ? data.getUnsignedShort(data.readerIndex() + 4 + nameLength) : -1;
        if (requests < 0 || length != 6 + nameLength + 2 * requests) {
            NbdReplies.error(ctx, option, NbdProtocol.REP_ERR_INVALID, "malformed NBD_OPT_INFO/GO data");
            return false;
        }
        NbdReplies.infoExport(ctx, option, export);
        NbdReplies.infoBlockSize(ctx, option, export);
        int at = data.readerIndex() + 6 + nameLength;
        for (int i = 0; i < requests; i++) {
            int type = data.getUnsignedShort(at + 2 * i);
            if (type == NbdProtocol.INFO_NAME) {
                NbdReplies.infoText(ctx, option, type, export.name());
            } else if (type == NbdProtocol.INFO_DESCRIPTION) {
                NbdReplies.infoText(ctx, option, type, "valet swap space");
            }
        }
        NbdReplies.ack(ctx, option);
        return true;
    }

    private void startTransmission(ChannelHandlerContext ctx) {
        ctx.flush();
        NbdRequestHandler handler = new NbdRequestHandler(ctx.channel(), export, store);
        ctx.pipeline().addAfter(ctx.name(), "nbd-requests", new NbdRequestDecoder(handler));
        ctx.pipeline().remove(this);
    }

    private void hangUp(ChannelHandlerContext ctx, ByteBuf in, String why) {
        finished = true;
        LOG.debug("nbd {}: closing in the handshake: {}", ctx.channel().remoteAddress(), why);
        in.skipBytes(in.readableBytes());
        ctx.close();
    }

    /**
     * A connection that failed (reset, broken pipe) is closed; any other exception is a bug here, also passed on to
     * the end of the pipeline (logged there by {@link NbdServer}, recorded by a test's embedded channel).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("nbd {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
        if (!(cause instanceof java.io.IOException)) {
            ctx.fireExceptionCaught(cause);
        }
    }
}
