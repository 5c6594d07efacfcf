package dev.valet.client.transport.tcp;

import dev.valet.client.transport.WireCounters;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Counts the frames written and the flushes that reach the socket. It sits below the flush consolidation, so a
 * flush it sees is one that really goes out.
 */
@ChannelHandler.Sharable
final class WireCounting extends ChannelOutboundHandlerAdapter {
    private final WireCounters counters;

    WireCounting(WireCounters counters) {
        this.counters = counters;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        counters.frameWritten();
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        counters.flushed();
        ctx.flush();
    }
}
