package dev.valet.client.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The NBD server's handshake and transmission phase over an embedded channel and pages in memory. */
class NbdProtocolTest {
    static final long SIZE = 1 << 20;
    static final NbdExport EXPORT = new NbdExport("valet", SIZE, 64 * 1024, 4, 0);

    private final MemoryPages store = new MemoryPages(SIZE);
    private final NbdWire wire = new NbdWire(EXPORT, store);

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] bytes(ByteBuf in, int n) {
        byte[] b = new byte[n];
        in.readBytes(b);
        return b;
    }

    @Test
    void greetsWithFixedNewstyleAndNoZeroes() {
        ByteBuf in = wire.in();
        assertThat(in.readLong()).isEqualTo(NbdProtocol.NBD_MAGIC);
        assertThat(in.readLong()).isEqualTo(NbdProtocol.IHAVEOPT);
        assertThat(in.readUnsignedShort()).isEqualTo(3);
    }

    @Test
    void goTellsSizeFlagsAndBlockSizes() {
        wire.send(Unpooled.buffer().writeInt(1));
        wire.send(NbdWire.option(NbdProtocol.OPT_GO, NbdWire.goData("any", NbdProtocol.INFO_NAME)));
        ByteBuf in = wire.in().skipBytes(18);
        List<Integer> infos = new ArrayList<>();
        while (true) {
            assertThat(in.readLong()).isEqualTo(NbdProtocol.OPTION_REPLY_MAGIC);
            assertThat(in.readInt()).isEqualTo(NbdProtocol.OPT_GO);
            int type = in.readInt();
            int length = in.readInt();
            if (type == NbdProtocol.REP_ACK) {
                assertThat(length).isZero();
                break;
            }
            assertThat(type).isEqualTo(NbdProtocol.REP_INFO);
            int info = in.readUnsignedShort();
            infos.add(info);
            if (info == NbdProtocol.INFO_EXPORT) {
                assertThat(in.readLong()).isEqualTo(SIZE);
                assertThat(in.readUnsignedShort()).isEqualTo(NbdProtocol.TRANSMISSION_FLAGS);
            } else if (info == NbdProtocol.INFO_BLOCK_SIZE) {
                assertThat(new int[] {in.readInt(), in.readInt(), in.readInt()}).containsExactly(4096, 4096, 65536);
            } else {
                assertThat(new String(bytes(in, length - 2), StandardCharsets.UTF_8)).isEqualTo("valet");
            }
        }
        assertThat(infos).containsExactly(NbdProtocol.INFO_EXPORT, NbdProtocol.INFO_BLOCK_SIZE,
                NbdProtocol.INFO_NAME);
        wire.write(1, 8192, random(4096, 1));
        assertThat(wire.reply()).containsExactly(1, 0);
    }

    @Test
    void exportNameAnswersWithOrWithoutZeroes() {
        wire.send(Unpooled.buffer().writeInt(1));
        wire.send(NbdWire.option(NbdProtocol.OPT_EXPORT_NAME, new byte[0]));
        assertThat(wire.in().skipBytes(18).readableBytes()).isEqualTo(134);
        NbdWire other = new NbdWire(EXPORT, store);
        other.send(Unpooled.buffer().writeInt(3));
        other.send(NbdWire.option(NbdProtocol.OPT_EXPORT_NAME, "x".getBytes(StandardCharsets.UTF_8)));
        ByteBuf in = other.in().skipBytes(18);
        assertThat(in.readLong()).isEqualTo(SIZE);
        assertThat(in.readUnsignedShort()).isEqualTo(NbdProtocol.TRANSMISSION_FLAGS);
        assertThat(in.isReadable()).isFalse();
        other.send(NbdWire.request(0, NbdProtocol.CMD_READ, 5, 0, 4096));
        assertThat(other.reply()).containsExactly(5, 0);
    }

    @Test
    void listInfoUnknownAndTlsOptionsThenGo() {
        wire.send(Unpooled.buffer().writeInt(1));
        wire.in().skipBytes(18);
        wire.send(NbdWire.option(NbdProtocol.OPT_LIST, new byte[0]));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_LIST)).isEqualTo(NbdProtocol.REP_SERVER);
        assertThat(wire.optionReplyType(NbdProtocol.OPT_LIST)).isEqualTo(NbdProtocol.REP_ACK);
        wire.send(NbdWire.option(NbdProtocol.OPT_LIST, new byte[1]));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_LIST)).isEqualTo(NbdProtocol.REP_ERR_INVALID);
        wire.send(NbdWire.option(NbdProtocol.OPT_STARTTLS, new byte[0]));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_STARTTLS)).isEqualTo(NbdProtocol.REP_ERR_POLICY);
        wire.send(NbdWire.option(99, new byte[3]));
        assertThat(wire.optionReplyType(99)).isEqualTo(NbdProtocol.REP_ERR_UNSUP);
        wire.send(NbdWire.option(NbdProtocol.OPT_INFO, new byte[] {0, 0, 0, 9, 0, 0}));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_INFO)).isEqualTo(NbdProtocol.REP_ERR_INVALID);
        wire.send(NbdWire.option(NbdProtocol.OPT_INFO, NbdWire.goData("")));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_INFO)).isEqualTo(NbdProtocol.REP_INFO);
        assertThat(wire.optionReplyType(NbdProtocol.OPT_INFO)).isEqualTo(NbdProtocol.REP_INFO);
        assertThat(wire.optionReplyType(NbdProtocol.OPT_INFO)).isEqualTo(NbdProtocol.REP_ACK);
        wire.send(NbdWire.option(NbdProtocol.OPT_GO, NbdWire.goData("")));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_GO)).isEqualTo(NbdProtocol.REP_INFO);
        assertThat(wire.optionReplyType(NbdProtocol.OPT_GO)).isEqualTo(NbdProtocol.REP_INFO);
        assertThat(wire.optionReplyType(NbdProtocol.OPT_GO)).isEqualTo(NbdProtocol.REP_ACK);
        wire.send(NbdWire.request(0, NbdProtocol.CMD_FLUSH, 7, 0, 0));
        assertThat(wire.reply()).containsExactly(7, 0);
    }

    @Test
    void abortIsAcknowledgedAndCloses() {
        wire.send(Unpooled.buffer().writeInt(1));
        wire.in().skipBytes(18);
        wire.send(NbdWire.option(NbdProtocol.OPT_ABORT, new byte[0]));
        assertThat(wire.optionReplyType(NbdProtocol.OPT_ABORT)).isEqualTo(NbdProtocol.REP_ACK);
        assertThat(wire.channel.isOpen()).isFalse();
    }

    @Test
    void clientWithoutFixedNewstyleOrWithUnknownFlagsIsClosed() {
        wire.send(Unpooled.buffer().writeInt(0));
        assertThat(wire.channel.isOpen()).isFalse();
        NbdWire other = new NbdWire(EXPORT, store);
        other.send(Unpooled.buffer().writeInt(1 | 8));
        assertThat(other.channel.isOpen()).isFalse();
        NbdWire third = new NbdWire(EXPORT, store);
        third.send(Unpooled.buffer().writeInt(1).writeLong(0x1234).writeInt(1).writeInt(0));
        assertThat(third.channel.isOpen()).isFalse();
    }

    @Test
    void writeThenReadReturnsThePagesWritten() {
        wire.go();
        byte[] data = random(3 * 4096, 2);
        wire.write(11, 4096, data);
        assertThat(wire.reply()).containsExactly(11, 0);
        wire.send(NbdWire.request(NbdProtocol.CMD_FLAG_FUA, NbdProtocol.CMD_WRITE, 12, SIZE - 4096, 4096)
                .writeBytes(random(4096, 3)));
        assertThat(wire.reply()).containsExactly(12, 0);
        wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 13, 4096, 3 * 4096));
        assertThat(wire.reply()).containsExactly(13, 0);
        assertThat(bytes(wire.in(), 3 * 4096)).isEqualTo(data);
        assertThat(wire.in().isReadable()).isFalse();
    }

    @Test
    void unalignedTooLongOrUnknownRequestsGetEinvalAndChangeNothing() {
        wire.go();
        byte[] before = store.snapshot();
        wire.send(NbdWire.request(0, NbdProtocol.CMD_WRITE, 1, 512, 4096).writeBytes(random(4096, 4)));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_WRITE, 2, 0, 1000).writeBytes(random(1000, 5)));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_WRITE, 3, 0, 128 * 1024).writeBytes(random(128 * 1024, 6)));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 4, 100, 4096));
        wire.send(NbdWire.request(0, 5, 5, 0, 4096));
        wire.send(NbdWire.request(0, 77, 6, 0, 4096));
        wire.send(NbdWire.request(1 << 7, NbdProtocol.CMD_READ, 7, 0, 4096));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_TRIM, 8, 0, 100));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_WRITE, 9, 0, 0));
        for (int cookie = 1; cookie <= 9; cookie++) {
            assertThat(wire.reply()).containsExactly(cookie, NbdProtocol.EINVAL);
        }
        assertThat(store.snapshot()).isEqualTo(before);
        assertThat(store.calls).isZero();
        wire.write(10, 0, random(4096, 7));
        assertThat(wire.reply()).containsExactly(10, 0);
    }

    @Test
    void pastTheEndGetsEinvalForReadsAndEnospcForWrites() {
        wire.go();
        byte[] before = store.snapshot();
        wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 1, SIZE, 4096));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 2, -4096L, 8192));
        wire.write(3, SIZE - 4096, random(8192, 8));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_WRITE_ZEROES, 4, SIZE - 4096, 8192));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_TRIM, 5, 1L << 40, 4096));
        assertThat(wire.reply()).containsExactly(1, NbdProtocol.EINVAL);
        assertThat(wire.reply()).containsExactly(2, NbdProtocol.EINVAL);
        assertThat(wire.reply()).containsExactly(3, NbdProtocol.ENOSPC);
        assertThat(wire.reply()).containsExactly(4, NbdProtocol.ENOSPC);
        assertThat(wire.reply()).containsExactly(5, NbdProtocol.ENOSPC);
        assertThat(store.snapshot()).isEqualTo(before);
    }

    @Test
    void trimAndWriteZeroesWriteZeroPagesInChunks() {
        wire.go();
        byte[] data = random((int) SIZE, 9);
        for (int at = 0; at < SIZE; at += 65536) {
            byte[] part = new byte[65536];
            System.arraycopy(data, at, part, 0, part.length);
            wire.write(at, at, part);
            assertThat(wire.reply()).containsExactly(at, 0);
        }
        int writes = store.writes;
        wire.send(NbdWire.request(0, NbdProtocol.CMD_TRIM, 1, 4096, 200 * 4096));
        assertThat(wire.reply()).containsExactly(1, 0);
        assertThat(store.writes - writes).isEqualTo(4);
        wire.send(NbdWire.request(NbdProtocol.CMD_FLAG_NO_HOLE, NbdProtocol.CMD_WRITE_ZEROES, 2, 0, 4096));
        assertThat(wire.reply()).containsExactly(2, 0);
        byte[] expected = data.clone();
        java.util.Arrays.fill(expected, 0, 201 * 4096, (byte) 0);
        assertThat(store.bytes).isEqualTo(expected);
    }

    @Test
    void repliesGoOutInTheOrderTheStoreAnswers() {
        wire.go();
        store.hold = true;
        for (int i = 0; i < 4; i++) {
            wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 100 + i, i * 4096L, 4096));
        }
        assertThat(store.heldCount()).isEqualTo(4);
        assertThat(wire.reply()).isNull();
        for (int i = 3; i >= 0; i--) {
            store.releaseLast();
            assertThat(wire.reply()).containsExactly(100 + i, 0);
            wire.in().skipBytes(4096);
        }
    }

    @Test
    void flushWaitsForTheWritesBeforeIt() {
        wire.go();
        store.hold = true;
        wire.write(1, 0, random(4096, 10));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_FLUSH, 2, 0, 0));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 3, 4096, 4096));
        store.releaseLast();
        assertThat(wire.reply()).containsExactly(3, 0);
        wire.in().skipBytes(4096);
        assertThat(wire.reply()).isNull();
        store.releaseFirst();
        assertThat(wire.reply()).containsExactly(1, 0);
        assertThat(wire.reply()).containsExactly(2, 0);
    }

    @Test
    void allSlotsBusyStopsReadingUntilOneIsFree() {
        wire.go();
        store.hold = true;
        ByteBuf many = Unpooled.buffer();
        for (int i = 0; i < 10; i++) {
            many.writeBytes(NbdWire.request(0, NbdProtocol.CMD_WRITE, i, i * 4096L, 4096).writeBytes(
                    random(4096, 20 + i)));
        }
        wire.send(many);
        assertThat(store.heldCount()).isEqualTo(EXPORT.slots());
        assertThat(wire.channel.config().isAutoRead()).isFalse();
        for (int i = 0; i < 10; i++) {
            store.releaseFirst();
            wire.channel.runPendingTasks();
            assertThat(wire.reply()).containsExactly(i, 0);
        }
        assertThat(wire.channel.config().isAutoRead()).isTrue();
        for (int i = 0; i < 10; i++) {
            byte[] page = new byte[4096];
            System.arraycopy(store.bytes, i * 4096, page, 0, 4096);
            assertThat(page).isEqualTo(random(4096, 20 + i));
        }
    }

    /**
     * With 2 slots of any size and 6 small ones, 8 page-sized requests are in flight at once; a request longer than
     * a small slot then waits for one of the 2 (reading stops), and goes ahead when one is free.
     */
    @Test
    void smallSlotsTakeSmallRequestsBeyondTheLargeOnes() {
        NbdExport export = new NbdExport("valet", SIZE, 128 * 1024, 2, 6);
        MemoryPages pages = new MemoryPages(SIZE);
        NbdWire small = new NbdWire(export, pages).go();
        pages.hold = true;
        for (int i = 0; i < 8; i++) {
            small.send(NbdWire.request(0, NbdProtocol.CMD_READ, i, i * 4096L, 4096));
        }
        assertThat(pages.heldCount()).isEqualTo(8);
        small.write(8, 64 * 1024, random(128 * 1024, 30));
        assertThat(pages.heldCount()).as("the long write waits for a slot that takes it").isEqualTo(8);
        assertThat(small.channel.config().isAutoRead()).isFalse();
        pages.releaseFirst(); // request 0: a small slot frees, the long write still waits
        small.channel.runPendingTasks();
        assertThat(small.reply()).containsExactly(0, 0);
        small.in().skipBytes(4096);
        assertThat(pages.heldCount()).isEqualTo(7);
        for (int i = 1; i < 8; i++) {
            pages.releaseFirst();
            small.channel.runPendingTasks();
            assertThat(small.reply()).containsExactly(i, 0);
            small.in().skipBytes(4096);
        }
        pages.releaseFirst();
        small.channel.runPendingTasks();
        assertThat(small.reply()).containsExactly(8, 0);
        byte[] written = new byte[128 * 1024];
        System.arraycopy(pages.bytes, 64 * 1024, written, 0, written.length);
        assertThat(written).isEqualTo(random(128 * 1024, 30));
        small.channel.finishAndReleaseAll();
    }

    @Test
    void discAnswersWhatIsInFlightThenCloses() {
        wire.go();
        store.hold = true;
        wire.send(NbdWire.request(0, NbdProtocol.CMD_READ, 1, 0, 4096));
        wire.send(NbdWire.request(0, NbdProtocol.CMD_DISC, 2, 0, 0));
        assertThat(wire.channel.isOpen()).isTrue();
        store.releaseFirst();
        assertThat(wire.reply()).containsExactly(1, 0);
        assertThat(wire.channel.isOpen()).isFalse();
    }

    @Test
    void badRequestMagicCloses() {
        wire.go();
        wire.send(Unpooled.buffer().writeInt(0x12345678).writeZero(24));
        assertThat(wire.channel.isOpen()).isFalse();
        assertThat(store.calls).isZero();
    }

    @Test
    void requestsSplitAcrossReadsAreReassembled() {
        wire.go();
        byte[] data = random(8192, 30);
        ByteBuf all = NbdWire.request(0, NbdProtocol.CMD_WRITE, 1, 0, 8192).writeBytes(data);
        while (all.isReadable()) {
            wire.send(all.readRetainedSlice(Math.min(7, all.readableBytes())));
        }
        assertThat(wire.reply()).containsExactly(1, 0);
        byte[] stored = new byte[8192];
        System.arraycopy(store.bytes, 0, stored, 0, 8192);
        assertThat(stored).isEqualTo(data);
    }
}
