package dev.valet.client.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;

/** A test's end of an NBD connection over an {@link EmbeddedChannel}: writes the client's bytes, reads the server's. */
final class NbdWire {
    final EmbeddedChannel channel;
    final MemoryPages store;
    private final ByteBuf received = Unpooled.buffer();

    NbdWire(NbdExport export, MemoryPages store) {
        this.store = store;
        this.channel = new EmbeddedChannel(new CopyOnWrite(), new NbdHandshake(export, store, null));
    }

    /** Everything the server has written and the test has not read yet, with tasks run first. */
    ByteBuf in() {
        channel.runPendingTasks();
        for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
            ByteBuf b = (ByteBuf) o;
            received.writeBytes(b);
            b.release();
        }
        return received;
    }

    void send(ByteBuf bytes) {
        channel.writeInbound(bytes);
        channel.runPendingTasks();
    }

    /**
     * Copies each buffer written as it is written, as a socket would send it: the server frees a slot once its reply
     * is written, and an embedded channel would otherwise keep the slot's bytes, not a copy.
     */
    private static final class CopyOnWrite extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ByteBuf b = (ByteBuf) msg;
            ByteBuf copy = Unpooled.copiedBuffer(b);
            b.release();
            ctx.write(copy, promise);
        }
    }

    static ByteBuf option(int option, byte[] data) {
        return Unpooled.buffer().writeLong(NbdProtocol.IHAVEOPT).writeInt(option).writeInt(data.length)
                .writeBytes(data);
    }

    /** NBD_OPT_GO or NBD_OPT_INFO for {@code name} asking for {@code infos}. */
    static byte[] goData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer().writeInt(n.length).writeBytes(n).writeShort(infos.length);
        for (int info : infos) {
            b.writeShort(info);
        }
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    static ByteBuf request(int flags, int type, long cookie, long offset, long length) {
        return Unpooled.buffer().writeInt(NbdProtocol.REQUEST_MAGIC).writeShort(flags).writeShort(type)
                .writeLong(cookie).writeLong(offset).writeInt((int) length);
    }

    /** Client flags (fixed newstyle, no zeroes) and NBD_OPT_GO; reads the greeting and the replies. */
    NbdWire go() {
        send(Unpooled.buffer().writeInt(NbdProtocol.CLIENT_FLAG_FIXED_NEWSTYLE | NbdProtocol.CLIENT_FLAG_NO_ZEROES));
        send(option(NbdProtocol.OPT_GO, goData("")));
        ByteBuf in = in();
        in.skipBytes(18);
        int type;
        do {
            in.skipBytes(12);
            type = in.readInt();
            in.skipBytes(in.readInt());
        } while (type != NbdProtocol.REP_ACK);
        return this;
    }

    /** The next option reply: its type, with its data skipped. */
    int optionReplyType(int option) {
        ByteBuf in = in();
        if (in.readLong() != NbdProtocol.OPTION_REPLY_MAGIC || in.readInt() != option) {
            throw new AssertionError("not an option reply to " + option);
        }
        int type = in.readInt();
        in.skipBytes(in.readInt());
        return type;
    }

    /** Reads one simple reply: {cookie, error}; the data of a good READ stays in {@link #in()}. */
    long[] reply() {
        ByteBuf in = in();
        if (in.readableBytes() < 16) {
            return null;
        }
        if (in.readInt() != NbdProtocol.SIMPLE_REPLY_MAGIC) {
            throw new AssertionError("not a simple reply");
        }
        int error = in.readInt();
        return new long[] {in.readLong(), error};
    }

    void write(long cookie, long offset, byte[] data) {
        send(request(0, NbdProtocol.CMD_WRITE, cookie, offset, data.length).writeBytes(data));
    }
}
