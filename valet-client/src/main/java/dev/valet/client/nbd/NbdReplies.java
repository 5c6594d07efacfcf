package dev.valet.client.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.nio.charset.StandardCharsets;

/** Writes the handshake's messages: the greeting and option replies (the transmission's replies are the slots'). */
final class NbdReplies {
    private NbdReplies() {
    }

    /** NBDMAGIC, IHAVEOPT and the handshake flags: fixed newstyle, no zeroes. */
    static void greeting(ChannelHandlerContext ctx) {
        ByteBuf out = ctx.alloc().buffer(18);
        out.writeLong(NbdProtocol.NBD_MAGIC).writeLong(NbdProtocol.IHAVEOPT)
                .writeShort(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        ctx.writeAndFlush(out);
    }

    /** An option reply header for {@code option} of {@code type} with {@code length} bytes of data to follow. */
    static ByteBuf optionReply(ChannelHandlerContext ctx, int option, int type, int length) {
        ByteBuf out = ctx.alloc().buffer(20 + length);
        out.writeLong(NbdProtocol.OPTION_REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(length);
        return out;
    }

    /** An option reply with no data (NBD_REP_ACK). */
    static void ack(ChannelHandlerContext ctx, int option) {
        ctx.write(optionReply(ctx, option, NbdProtocol.REP_ACK, 0));
    }

    /** An error reply to {@code option} with a message for the client's user. */
    static void error(ChannelHandlerContext ctx, int option, int type, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ctx.write(optionReply(ctx, option, type, text.length).writeBytes(text));
    }

    /** NBD_REP_SERVER for NBD_OPT_LIST: the export's name. */
    static void server(ChannelHandlerContext ctx, int option, String name) {
        byte[] text = name.getBytes(StandardCharsets.UTF_8);
        ctx.write(optionReply(ctx, option, NbdProtocol.REP_SERVER, 4 + text.length).writeInt(text.length)
                .writeBytes(text));
    }

    /** NBD_REP_INFO with NBD_INFO_EXPORT: the size and the transmission flags. */
    static void infoExport(ChannelHandlerContext ctx, int option, NbdExport export) {
        ctx.write(optionReply(ctx, option, NbdProtocol.REP_INFO, 12).writeShort(NbdProtocol.INFO_EXPORT)
                .writeLong(export.size()).writeShort(NbdProtocol.TRANSMISSION_FLAGS));
    }

    /** NBD_REP_INFO with NBD_INFO_BLOCK_SIZE: minimum and preferred one page, maximum the largest request. */
    static void infoBlockSize(ChannelHandlerContext ctx, int option, NbdExport export) {
        ctx.write(optionReply(ctx, option, NbdProtocol.REP_INFO, 14).writeShort(NbdProtocol.INFO_BLOCK_SIZE)
                .writeInt(NbdProtocol.PAGE).writeInt(NbdProtocol.PAGE).writeInt(export.maxRequestBytes()));
    }

    /** NBD_REP_INFO with NBD_INFO_NAME or NBD_INFO_DESCRIPTION. */
    static void infoText(ChannelHandlerContext ctx, int option, int infoType, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ctx.write(optionReply(ctx, option, NbdProtocol.REP_INFO, 2 + bytes.length).writeShort(infoType)
                .writeBytes(bytes));
    }

    /** The answer to NBD_OPT_EXPORT_NAME: size, transmission flags, and 124 zero bytes unless NO_ZEROES. */
    static void exportName(ChannelHandlerContext ctx, NbdExport export, boolean noZeroes) {
        ByteBuf out = ctx.alloc().buffer(134);
        out.writeLong(export.size()).writeShort(NbdProtocol.TRANSMISSION_FLAGS);
        if (!noZeroes) {
            out.writeZero(124);
        }
        ctx.write(out);
    }
}
