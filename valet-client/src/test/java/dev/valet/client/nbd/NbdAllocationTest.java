package dev.valet.client.nbd;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import dev.valet.common.testing.ThreadAllocation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing is allocated per request on the NBD path: requests decoded into their slots, served by a store that
 * answers at once (and allocates nothing itself), replies written from the slots' own buffers. Measured with the
 * JVM's per-thread allocation counter over many requests after a warm-up, on an embedded channel whose "socket"
 * takes each reply and is done with it at once.
 */
class NbdAllocationTest {
    private static final long SIZE = 16L << 20;
    private static final NbdExport EXPORT = NbdExport.of(SIZE, 64 * 1024);
    private static final int ROUNDS = 20_000;

    /** Answers every call at once, allocating nothing. */
    private static final class Immediate implements PageStore {
        long pages;

        @Override
        public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
            pages += count;
            done.pageIoDone(null);
        }

        @Override
        public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
            pages += count;
            done.pageIoDone(null);
        }
    }

    /** The socket: counts the bytes of every message written and releases it at once. */
    private static final class Sink extends ChannelOutboundHandlerAdapter {
        long bytes;
        long messages;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ByteBuf b = (ByteBuf) msg;
            bytes += b.readableBytes();
            messages++;
            b.release();
            promise.trySuccess();
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
        }
    }

    @Test
    void servingReadsWritesAndFlushesAllocatesNothing() throws Exception {
        Sink sink = new Sink();
        Immediate store = new Immediate();
        EmbeddedChannel channel = new EmbeddedChannel(sink, new NbdHandshake(EXPORT, store, null));
        channel.writeInbound(Unpooled.buffer().writeInt(NbdProtocol.CLIENT_FLAG_FIXED_NEWSTYLE
                | NbdProtocol.CLIENT_FLAG_NO_ZEROES));
        channel.writeInbound(NbdWire.option(NbdProtocol.OPT_GO, NbdWire.goData("")));
        assertThat(channel.pipeline().get("nbd-requests")).as("transmission phase").isNotNull();

        // One burst: 4 one-page READs, 4 two-page WRITEs with their data, a FLUSH: fewer than the slots. A buffer of
        // its own, not the allocator's: netty's leak detector samples those and records every access to one it
        // tracks (the daemons turn it off: NettyTransport.daemonBufferSettings).
        ByteBuf burst = new UnpooledHeapByteBuf(UnpooledByteBufAllocator.DEFAULT, 128 << 10, 128 << 10);
        for (int i = 0; i < 4; i++) {
            burst.writeBytes(NbdWire.request(0, NbdProtocol.CMD_READ, i, i * 4096L, 4096));
            burst.writeBytes(NbdWire.request(0, NbdProtocol.CMD_WRITE, 10 + i, i * 8192L, 8192)).writeZero(8192);
        }
        burst.writeBytes(NbdWire.request(0, NbdProtocol.CMD_FLUSH, 99, 0, 0));
        long[] before = new long[2];
        long allocated = ThreadAllocation.of(() -> { // warm up: code compiled, queues grown
            run(channel, burst, ROUNDS);
            before[0] = store.pages;
            before[1] = sink.messages;
        }, () -> run(channel, burst, ROUNDS));
        long pagesBefore = before[0];
        long messagesBefore = before[1];

        System.out.printf("nbd: %d bytes allocated over %d requests%n", allocated, 9L * ROUNDS);
        assertThat(store.pages - pagesBefore).isEqualTo(12L * ROUNDS);
        assertThat(sink.messages - messagesBefore).as("one reply per request").isEqualTo(9L * ROUNDS);
        // Under one byte per request: no object per request (the smallest is 16 bytes), only the odd one-time
        // allocation of the JVM or the embedded event loop's queue (0 to ~70 KB measured).
        assertThat(allocated).isLessThan(9L * ROUNDS);
        channel.finishAndReleaseAll();
    }

    private static void run(EmbeddedChannel channel, ByteBuf burst, int rounds) {
        for (int i = 0; i < rounds; i++) {
            burst.retain().readerIndex(0);
            channel.pipeline().fireChannelRead(burst);
            channel.runPendingTasks();
        }
    }
}
