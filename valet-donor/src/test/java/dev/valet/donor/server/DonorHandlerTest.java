package dev.valet.donor.server;

import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.EvictRequest;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.IndexRequest;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.PagesAck;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.protocol.SlabRef;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.server.EmbeddedDonorClient.Page;
import dev.valet.donor.server.EmbeddedDonorClient.Reply;
import dev.valet.donor.store.Slab;
import dev.valet.donor.store.SlabStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The donor's request handling, end to end through the real decoder, handler and slab store, in process. */
class DonorHandlerTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final long LIMIT = 256 * 1024;
    private static final long MAX_SLAB = 128 * 1024;
    private static final int MAX_FRAME = 64 * 1024;
    /** What fits in one READ_PAGES_OK of MAX_FRAME: (65536 - 28) / 4128. */
    private static final int MAX_READ_PAGES = 15;

    private SlabStore store;
    private Donor donor;
    private HelloOk helloOk;
    private final List<EmbeddedDonorClient> clients = new ArrayList<>();

    @BeforeEach
    void setUp() {
        store = new SlabStore(LIMIT, MAX_SLAB, false);
        helloOk = new HelloOk(0x1234_5678_9ABCL, PAGE, MAX_FRAME, MAX_SLAB);
        donor = new Donor(store, new FreeMemoryTrend(0.7, 8), helloOk, EmbeddedDonorClient.NO_EVICTION);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(EmbeddedDonorClient::close);
        store.close();
        assertThat(store.lentBytes()).isZero();
    }

    private EmbeddedDonorClient client() {
        EmbeddedDonorClient c = new EmbeddedDonorClient(donor);
        clients.add(c);
        return c;
    }

    private EmbeddedDonorClient helloed(String identity) {
        EmbeddedDonorClient c = client();
        Reply ok = c.hello(identity);
        assertThat(ok.opcode()).isEqualTo(Opcode.HELLO_OK);
        assertThat(ok.decode(HelloOk::decode)).isEqualTo(helloOk);
        return c;
    }

    private static void assertOk(Reply reply, Opcode expected) {
        if (reply.opcode() == Opcode.ERROR) {
            throw new AssertionError("expected " + expected + " but got " + reply.error());
        }
        assertThat(reply.opcode()).isEqualTo(expected);
    }

    private static void assertError(Reply reply, ErrorCode code, String messagePart) {
        assertThat(reply.opcode()).as("reply opcode").isEqualTo(Opcode.ERROR);
        assertThat(reply.error().code()).isEqualTo(code);
        assertThat(reply.error().message()).contains(messagePart);
    }

    // --- HELLO ----------------------------------------------------------------------------------------------

    @Test
    void everyRequestBeforeHelloIsRefusedWithHelloRequired() {
        EmbeddedDonorClient c = client();
        assertError(c.stats(), ErrorCode.HELLO_REQUIRED, "STATS before HELLO");
        assertError(c.alloc(1, PAGE), ErrorCode.HELLO_REQUIRED, "ALLOC_SLAB");
        assertError(c.free(1), ErrorCode.HELLO_REQUIRED, "FREE_SLAB");
        assertError(c.write(1, Page.filled(0, 1, 1)), ErrorCode.HELLO_REQUIRED, "WRITE_PAGES");
        assertError(c.read(1, 0), ErrorCode.HELLO_REQUIRED, "READ_PAGES");
        assertError(c.heartbeat(5), ErrorCode.HELLO_REQUIRED, "HEARTBEAT");
        assertThat(store.slabCount()).isZero();
        // Still usable: HELLO now works.
        assertOk(c.hello("late"), Opcode.HELLO_OK);
        assertOk(c.alloc(1, PAGE), Opcode.ALLOC_SLAB_OK);
    }

    @Test
    void helloTwiceIsABadFrameAndKeepsTheFirstIdentity() {
        EmbeddedDonorClient c = helloed("first");
        assertOk(c.alloc(1, PAGE), Opcode.ALLOC_SLAB_OK);
        assertError(c.hello("second"), ErrorCode.BAD_FRAME, "HELLO again");
        assertThat(store.find("first", 1)).isNotNull();
        assertOk(c.read(1, 0), Opcode.READ_PAGES_OK);
        assertThat(c.stats().decode(DonorStats::decode).clientCount()).isEqualTo(1);
    }

    @Test
    void helloWithAnotherProtocolVersionIsUnsupported() {
        EmbeddedDonorClient c = client();
        assertError(c.call(Opcode.HELLO, new Hello(2, "future")), ErrorCode.UNSUPPORTED_VERSION, "version 2");
        assertError(c.call(Opcode.HELLO, new Hello(0, "past")), ErrorCode.UNSUPPORTED_VERSION, "version 0");
        assertError(c.stats(), ErrorCode.HELLO_REQUIRED, "before HELLO");
        assertOk(c.hello("present"), Opcode.HELLO_OK);
    }

    @Test
    void malformedHelloBodiesAreBadFrames() {
        EmbeddedDonorClient c = client();
        assertError(c.call(5, EmbeddedDonorClient.rawFrame(Opcode.HELLO.code(), 5, new byte[] {1, 3, 'a'})),
                ErrorCode.BAD_FRAME, "HELLO");
        assertError(c.call(6, EmbeddedDonorClient.rawFrame(Opcode.HELLO.code(), 6,
                java.util.Arrays.copyOf(new byte[] {1, 2, (byte) 0xC3, 0x28}, 4 + AuthProof.BYTES))),
                ErrorCode.BAD_FRAME, "UTF-8");
        assertOk(c.hello("fine"), Opcode.HELLO_OK);
    }

    // --- slabs and pages ------------------------------------------------------------------------------------

    @Test
    void allocWriteReadFreeHappyPath() {
        EmbeddedDonorClient c = helloed("app");
        Reply alloc = c.alloc(7, 16 * PAGE);
        assertOk(alloc, Opcode.ALLOC_SLAB_OK);
        assertThat(alloc.<SlabRef>decode(b -> SlabRef.decode(b, "ALLOC_SLAB_OK")).slabId()).isEqualTo(7);
        assertThat(store.lentBytes()).isEqualTo(16 * PAGE);

        Page p0 = Page.filled(0, 1, 100);
        Page p5 = Page.filled(5, 9, 105);
        Page p15 = Page.filled(15, Long.MAX_VALUE, 115);
        Reply ack = c.write(7, p0, p5, p15);
        assertOk(ack, Opcode.WRITE_PAGES_OK);
        assertThat(ack.decode(PagesAck::decode)).isEqualTo(new PagesAck(7, 3));

        Reply read = c.read(7, 15, 0, 5, 0);
        assertOk(read, Opcode.READ_PAGES_OK);
        assertThat(read.slabIdOfPages()).isEqualTo(7);
        assertThat(read.pages())
                .containsExactly(p15, p0, p5, p0);

        Reply freed = c.free(7);
        assertOk(freed, Opcode.FREE_SLAB_OK);
        assertThat(freed.<SlabRef>decode(b -> SlabRef.decode(b, "FREE_SLAB_OK")).slabId()).isEqualTo(7);
        assertThat(store.lentBytes()).isZero();
        assertError(c.read(7, 0), ErrorCode.NO_SUCH_SLAB, "no slab 7");
        assertError(c.write(7, p0), ErrorCode.NO_SUCH_SLAB, "no slab 7");
        assertError(c.free(7), ErrorCode.NO_SUCH_SLAB, "no slab 7");
    }

    @Test
    void neverWrittenPagesReadAsVersionZeroZerosAndTheZeroPageCrc() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(c.write(1, Page.filled(2, 3, 9)), Opcode.WRITE_PAGES_OK);
        List<Page> pages = c.read(1, 0, 1, 3).pages();
        assertThat(pages).hasSize(3);
        for (Page p : pages) {
            assertThat(p.version()).isZero();
            assertThat(p.data()).isEqualTo(new byte[PAGE]);
            assertThat(p.crc()).isEqualTo(Slab.ZERO_PAGE_CRC);
        }
        assertThat(pages).extracting(Page::index).containsExactly(0L, 1L, 3L);
    }

    @Test
    void allocOverTheLendingLimitIsNoSpaceAndLendsNothing() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, MAX_SLAB), Opcode.ALLOC_SLAB_OK);
        assertOk(c.alloc(2, MAX_SLAB - 2 * PAGE), Opcode.ALLOC_SLAB_OK);
        long lent = store.lentBytes();
        assertThat(lent).isEqualTo(LIMIT - 2 * PAGE);

        assertError(c.alloc(3, 3 * PAGE), ErrorCode.NO_SPACE, "exceed the limit");
        assertThat(store.lentBytes()).isEqualTo(lent);
        assertThat(store.slabCount()).isEqualTo(2);
        assertThat(store.find("app", 3)).isNull();
        // Exactly up to the limit is fine.
        assertOk(c.alloc(3, 2 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertThat(store.lentBytes()).isEqualTo(LIMIT);
        assertError(c.alloc(4, PAGE), ErrorCode.NO_SPACE, "limit");
        assertThat(ErrorCode.NO_SPACE.retryable()).isTrue();
    }

    @Test
    void allocOfABadSizeIsABadFrame() {
        EmbeddedDonorClient c = helloed("app");
        for (long size : new long[] {0, -PAGE, 1, PAGE - 1, PAGE + 1, 3 * PAGE + 17, MAX_SLAB + PAGE,
                Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertError(c.alloc(1, size), ErrorCode.BAD_FRAME, "slab size " + size);
        }
        assertThat(store.lentBytes()).isZero();
        assertThat(store.slabCount()).isZero();
        assertOk(c.alloc(1, MAX_SLAB), Opcode.ALLOC_SLAB_OK);
    }

    @Test
    void allocOfAnExistingSlabIdIsSlabExists() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(9, PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(c.write(9, Page.filled(0, 1, 1)), Opcode.WRITE_PAGES_OK);
        assertError(c.alloc(9, 2 * PAGE), ErrorCode.SLAB_EXISTS, "slab 9 already exists");
        assertThat(store.lentBytes()).isEqualTo(PAGE);
        assertThat(c.read(9, 0).pages().get(0)).isEqualTo(Page.filled(0, 1, 1));
    }

    @Test
    void writeWithABadChecksumIsRefusedAndChangesNothing() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        Page old0 = Page.filled(0, 1, 10);
        Page old1 = Page.filled(1, 1, 11);
        assertOk(c.write(1, old0, old1), Opcode.WRITE_PAGES_OK);

        Page new0 = Page.filled(0, 2, 20);
        Page new1 = Page.filled(1, 2, 21);
        Page corrupt1 = new Page(1, 2, new1.crc() ^ 1, new1.data());
        assertError(c.write(1, new0, corrupt1), ErrorCode.BAD_CHECKSUM, "page 1 of slab 1");

        assertThat(c.read(1, 0, 1).pages())
                .containsExactly(old0, old1);
    }

    @Test
    void writeWithAPageOutOfRangeStoresNoneOfTheBatch() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        Page old0 = Page.filled(0, 1, 10);
        Page old1 = Page.filled(1, 1, 11);
        assertOk(c.write(1, old0, old1), Opcode.WRITE_PAGES_OK);

        for (long bad : new long[] {4, 5, 0xFFFF_FFFFL, 0x8000_0000L}) {
            assertError(c.write(1, Page.filled(0, 2, 20), Page.filled(1, 2, 21), Page.filled(bad, 2, 22)),
                    ErrorCode.PAGE_OUT_OF_RANGE, "page " + bad + " outside slab 1 (4 pages)");
        }
        assertThat(c.read(1, 0, 1, 2).pages())
                .containsExactly(old0, old1, new Page(2, 0, Slab.ZERO_PAGE_CRC, new byte[PAGE]));
        assertError(c.read(1, 0, 4), ErrorCode.PAGE_OUT_OF_RANGE, "page 4 outside");
        assertError(c.read(1, 0xFFFF_FFFFL), ErrorCode.PAGE_OUT_OF_RANGE, "page 4294967295 outside");
    }

    @Test
    void olderVersionsAreStaleEqualAndNewerAreAccepted() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        Page v5 = Page.filled(2, 5, 50);
        assertOk(c.write(1, v5), Opcode.WRITE_PAGES_OK);

        // A batch whose first page is fine and whose second is stale stores nothing.
        assertError(c.write(1, Page.filled(0, 1, 1), Page.filled(2, 4, 40)), ErrorCode.STALE_VERSION,
                "version 4 is older than the stored 5");
        assertThat(c.read(1, 0, 2).pages())
                .containsExactly(new Page(0, 0, Slab.ZERO_PAGE_CRC, new byte[PAGE]), v5);

        Page v5again = Page.filled(2, 5, 55);
        assertOk(c.write(1, v5again), Opcode.WRITE_PAGES_OK);
        assertThat(c.read(1, 2).pages().get(0)).isEqualTo(v5again);

        Page v6 = Page.filled(2, 6, 60);
        assertOk(c.write(1, v6), Opcode.WRITE_PAGES_OK);
        assertThat(c.read(1, 2).pages().get(0)).isEqualTo(v6);
    }

    @Test
    void versionZeroIsABadFrame() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertError(c.write(1, Page.filled(0, 1, 1), Page.filled(1, 0, 2)), ErrorCode.BAD_FRAME,
                "page 1 has version 0");
        assertThat(c.read(1, 0).pages().get(0).version()).isZero();
    }

    @Test
    void versionWithTheTopBitSetIsABadFrame() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertError(c.write(1, Page.filled(0, Long.MIN_VALUE, 1)), ErrorCode.BAD_FRAME,
                "has version 9223372036854775808");
        assertThat(c.read(1, 0).pages().get(0).version()).isZero();
    }

    @Test
    void aPageTwiceInOneBatchIsABadFrameAndStoresNothing() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        // Newer first, older second: accepting it would move the page's version backwards.
        assertError(c.write(1, Page.filled(2, 5, 50), Page.filled(2, 4, 40)), ErrorCode.BAD_FRAME,
                "page 2 of slab 1 appears twice");
        assertThat(c.read(1, 2).pages().get(0).version()).isZero();
        // The check forgets the refused batch: the same page alone is fine afterwards.
        Page v5 = Page.filled(2, 5, 50);
        assertOk(c.write(1, v5), Opcode.WRITE_PAGES_OK);
        assertThat(c.read(1, 2).pages().get(0)).isEqualTo(v5);
    }

    @Test
    void readOfMorePagesThanFitInAReplyIsABadFrame() {
        assertThat(PageBatch.maxPages(MAX_FRAME)).isEqualTo(MAX_READ_PAGES);
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 32 * PAGE), Opcode.ALLOC_SLAB_OK);
        long[] tooMany = LongStream.range(0, MAX_READ_PAGES + 1).toArray();
        assertError(c.read(1, tooMany), ErrorCode.BAD_FRAME, "asks for " + (MAX_READ_PAGES + 1) + " pages; at most "
                + MAX_READ_PAGES);
        long[] justEnough = LongStream.range(0, MAX_READ_PAGES).toArray();
        Reply full = c.read(1, justEnough);
        assertThat(full.pages()).hasSize(MAX_READ_PAGES);
        assertThat(full.body().length + FrameHeader.SIZE).isLessThanOrEqualTo(MAX_FRAME);
    }

    @Test
    void unknownAndReplyOpcodesAreUnsupportedAndTheConnectionGoesOn() {
        EmbeddedDonorClient c = client();
        // Before HELLO too: the opcode is judged first.
        assertError(c.call(40, EmbeddedDonorClient.rawFrame(0x42, 40, new byte[] {1, 2, 3})),
                ErrorCode.UNSUPPORTED_OPCODE, "opcode 0x42 is not a request");
        assertOk(c.hello("app"), Opcode.HELLO_OK);
        assertError(c.call(41, EmbeddedDonorClient.rawFrame(0x42, 41, new byte[0])), ErrorCode.UNSUPPORTED_OPCODE,
                "0x42");
        assertError(c.call(Opcode.HEARTBEAT_OK, new Heartbeat(1)), ErrorCode.UNSUPPORTED_OPCODE, "0x87");
        assertError(c.call(Opcode.HELLO_OK, helloOk), ErrorCode.UNSUPPORTED_OPCODE, "0x81");
        // RDMA's REGISTER_SLAB means nothing over TCP (its session serves it, docs/protocol.md "RDMA").
        assertError(c.call(Opcode.REGISTER_SLAB, new SlabRef(1)), ErrorCode.UNSUPPORTED_OPCODE,
                "REGISTER_SLAB is not served here");
        assertError(c.call(42, EmbeddedDonorClient.rawFrame(0xFF, 42, new byte[] {0, 1, 0, 0})),
                ErrorCode.UNSUPPORTED_OPCODE, "0xff");
        assertError(c.call(43, EmbeddedDonorClient.rawFrame(0x00, 43, new byte[0])), ErrorCode.UNSUPPORTED_OPCODE,
                "0x00");
        assertThat(c.channel.isOpen()).isTrue();
        Reply hb = c.heartbeat(77);
        assertOk(hb, Opcode.HEARTBEAT_OK);
        assertThat(hb.decode(Heartbeat::decode)).isEqualTo(new Heartbeat(77));
    }

    @Test
    void malformedBodiesAreBadFramesAndTheConnectionGoesOn() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertError(c.call(50, EmbeddedDonorClient.rawFrame(Opcode.ALLOC_SLAB.code(), 50, new byte[15])),
                ErrorCode.BAD_FRAME, "ALLOC_SLAB body is 15 bytes");
        assertError(c.call(51, EmbeddedDonorClient.rawFrame(Opcode.STATS.code(), 51, new byte[1])),
                ErrorCode.BAD_FRAME, "STATS body is 1 bytes");
        assertError(c.call(52, EmbeddedDonorClient.rawFrame(Opcode.FREE_SLAB.code(), 52, new byte[9])),
                ErrorCode.BAD_FRAME, "FREE_SLAB");
        assertError(c.call(53, EmbeddedDonorClient.rawFrame(Opcode.HEARTBEAT.code(), 53, new byte[0])),
                ErrorCode.BAD_FRAME, "HEARTBEAT");
        byte[] noPages = new byte[12];
        noPages[7] = 1;
        assertError(c.call(54, EmbeddedDonorClient.rawFrame(Opcode.WRITE_PAGES.code(), 54, noPages)),
                ErrorCode.BAD_FRAME, "WRITE_PAGES carries no pages");
        assertError(c.call(55, EmbeddedDonorClient.rawFrame(Opcode.READ_PAGES.code(), 55, noPages)),
                ErrorCode.BAD_FRAME, "READ_PAGES asks for no pages");
        ByteBuf shortRead = EmbeddedDonorClient.readFrame(56, 1, 0, 1);
        shortRead.setInt(FrameHeader.BODY_OFFSET + 8, 3);
        assertError(c.call(56, shortRead), ErrorCode.BAD_FRAME, "READ_PAGES says 3 pages");
        assertThat(store.lentBytes()).isEqualTo(4 * PAGE);
        assertOk(c.read(1, 0), Opcode.READ_PAGES_OK);
    }

    @Test
    void aBrokenHeaderGetsAnErrorAndTheConnectionIsClosed() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, PAGE), Opcode.ALLOC_SLAB_OK);
        EmbeddedDonorClient watcher = helloed("watcher");
        assertThat(watcher.stats().decode(DonorStats::decode).clientCount()).isEqualTo(2);

        ByteBuf bad = Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HEARTBEAT, 9, new Heartbeat(1));
        bad.setShort(FrameHeader.MAGIC_OFFSET, 0x1234);
        List<Reply> replies = c.sendRaw(bad);

        assertThat(replies).hasSize(1);
        assertThat(replies.get(0).requestId()).isZero();
        assertError(replies.get(0), ErrorCode.BAD_FRAME, "bad magic 0x1234");
        assertThat(c.channel.isOpen()).as("connection closed").isFalse();
        // The client left; its slabs stay lent (they belong to the identity, not the connection).
        assertThat(watcher.stats().decode(DonorStats::decode).clientCount()).isEqualTo(1);
        assertThat(store.find("app", 1)).isNotNull();
    }

    @Test
    void aHugeAnnouncedFrameIsRefusedOnItsHeaderAlone() {
        EmbeddedDonorClient c = helloed("app");
        ByteBuf header = Unpooled.buffer().writeInt(Integer.MAX_VALUE).writeShort(FrameHeader.MAGIC)
                .writeByte(FrameHeader.VERSION).writeByte(Opcode.WRITE_PAGES.code()).writeLong(3);
        List<Reply> replies = c.sendRaw(header);
        assertThat(replies).hasSize(1);
        assertError(replies.get(0), ErrorCode.BAD_FRAME, "frame length");
        assertThat(c.channel.isOpen()).isFalse();
    }

    @Test
    void aWrongFrameVersionIsUnsupportedAndCloses() {
        EmbeddedDonorClient c = client();
        ByteBuf frame = Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HELLO, 1, new Hello(1, "x"));
        frame.setByte(FrameHeader.VERSION_OFFSET, 2);
        List<Reply> replies = c.sendRaw(frame);
        assertThat(replies).hasSize(1);
        assertError(replies.get(0), ErrorCode.UNSUPPORTED_VERSION, "protocol version 2");
        assertThat(c.channel.isOpen()).isFalse();
    }

    @Test
    void statsReflectSlabsLentBytesClientsAndPageRate() {
        long t0 = System.nanoTime();
        donor.sample(t0, 100L << 20);
        EmbeddedDonorClient a = helloed("a");
        EmbeddedDonorClient b = helloed("b");
        DonorStats empty = a.stats().decode(DonorStats::decode);
        assertThat(empty).isEqualTo(new DonorStats(LIMIT, 0, LIMIT, 100L << 20, 0, 0, 2, 0, 0, 0, 0, 0, 0));

        assertOk(a.alloc(1, 8 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(b.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(a.write(1, Page.filled(0, 1, 0), Page.filled(1, 1, 1), Page.filled(2, 1, 2)),
                Opcode.WRITE_PAGES_OK);
        assertOk(b.read(1, 0, 1, 2, 3), Opcode.READ_PAGES_OK);
        // A refused request serves no pages.
        assertError(b.read(1, 9), ErrorCode.PAGE_OUT_OF_RANGE, "page 9");
        donor.sample(t0 + 1_000_000_000L, 100L << 20);

        DonorStats stats = b.stats().decode(DonorStats::decode);
        assertThat(stats.lendLimitBytes()).isEqualTo(LIMIT);
        assertThat(stats.lentBytes()).isEqualTo(12 * PAGE);
        assertThat(stats.offeredBytes()).isEqualTo(LIMIT - 12 * PAGE);
        assertThat(stats.slabCount()).isEqualTo(2);
        assertThat(stats.clientCount()).isEqualTo(2);
        assertThat(stats.pageOpsPerSecond()).isEqualTo(7);
        assertThat(stats.freeMemoryBytes()).isEqualTo(100L << 20);
        assertThat(stats.freeMemoryGradient()).isZero();

        // Offered is capped by free memory.
        donor.sample(t0 + 2_000_000_000L, 10 * PAGE);
        DonorStats tight = a.stats().decode(DonorStats::decode);
        assertThat(tight.freeMemoryBytes()).isEqualTo(Math.round(0.7 * (10 * PAGE) + (1 - 0.7) * (100L << 20)));
        assertThat(tight.freeMemoryGradient()).isNegative();

        assertOk(a.free(1), Opcode.FREE_SLAB_OK);
        DonorStats after = a.stats().decode(DonorStats::decode);
        assertThat(after.lentBytes()).isEqualTo(4 * PAGE);
        assertThat(after.slabCount()).isEqualTo(1);
    }

    @Test
    void underPressureTheDonorRefusesSlabsEvictsThroughTheWritersConnectionAndFreesOnlyOnTheOwnersFree() {
        donor = new Donor(store, new FreeMemoryTrend(1.0, 8), helloOk,
                EmbeddedDonorClient.headroom("evictBelow: 1M\nexpandAbove: 2M\n"));
        donor.sample(System.nanoTime(), 64L << 20);
        EmbeddedDonorClient owner = helloed("a");
        EmbeddedDonorClient status = helloed("a");
        assertOk(owner.alloc(1, 8 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(owner.alloc(2, 8 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(owner.write(1, Page.filled(0, 1, 0)), Opcode.WRITE_PAGES_OK);

        donor.sample(System.nanoTime(), 512L << 10);
        assertThat(store.find("a", 2)).as("the unused slab went at once").isNull();
        // The EVICT of the written slab went to the connection that wrote it, not to the other one of "a".
        List<Reply> evicts = owner.drain();
        assertThat(evicts).hasSize(1);
        assertThat(status.drain()).isEmpty();
        Reply evict = evicts.get(0);
        assertThat(evict.opcode()).isEqualTo(Opcode.EVICT);
        assertThat(evict.requestId() & FrameHeader.DONOR_REQUEST_BIT).isNotZero();
        assertThat(evict.decode(EvictRequest::decode).slabId()).isEqualTo(1);
        assertError(owner.alloc(3, 8 * PAGE), ErrorCode.NO_SPACE, "below headroom.evictBelow");

        // A client sending EVICT, or an EVICT_OK to nothing the donor sent, is refused as before.
        assertError(owner.call(Opcode.EVICT, new EvictRequest(1, 10)), ErrorCode.UNSUPPORTED_OPCODE, "EVICT");
        assertError(owner.call(Opcode.EVICT_OK, EvictReply.accepted(1)), ErrorCode.UNSUPPORTED_OPCODE, "not a request");
        // A malformed answer is logged and changes nothing; a decline is counted; the slab stays.
        assertThat(owner.sendRaw(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.EVICT_OK, evict.requestId(),
                new SlabRef(1)))).isEmpty();
        assertThat(owner.sendRaw(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.EVICT_OK, evict.requestId(),
                new EvictReply(1, ErrorCode.EVICT_NOWHERE)))).isEmpty();
        DonorStats stats = owner.stats().decode(DonorStats::decode);
        assertThat(stats.evictionsRequested()).isEqualTo(1);
        assertThat(stats.evictionsDeclined()).isEqualTo(1);
        assertThat(stats.unusedSlabsReclaimed()).isEqualTo(1);
        assertThat(stats.offeredBytes()).isZero();
        assertThat(store.find("a", 1)).isNotNull();

        // The owner's FREE_SLAB is the confirmation.
        assertOk(owner.free(1), Opcode.FREE_SLAB_OK);
        assertThat(owner.stats().decode(DonorStats::decode).evictionsCompleted()).isEqualTo(1);
    }

    @Test
    void offeredIsCappedByFreeMemory() {
        donor.sample(System.nanoTime(), 5 * PAGE);
        EmbeddedDonorClient c = helloed("a");
        assertThat(c.stats().decode(DonorStats::decode).offeredBytes()).isEqualTo(5 * PAGE);
    }

    @Test
    void heartbeatEchoesTheSendersClockAndRequestId() {
        EmbeddedDonorClient c = helloed("app");
        for (long nanos : new long[] {0, -1, Long.MIN_VALUE, System.nanoTime()}) {
            Reply r = c.heartbeat(nanos);
            assertOk(r, Opcode.HEARTBEAT_OK);
            assertThat(r.decode(Heartbeat::decode).senderNanos()).isEqualTo(nanos);
        }
    }

    @Test
    void repliesComeBackInRequestOrderForPipelinedRequests() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        ByteBuf all = Unpooled.buffer();
        all.writeBytes(EmbeddedDonorClient.writeFrame(100, 1, Page.filled(0, 1, 1)));
        all.writeBytes(EmbeddedDonorClient.readFrame(101, 1, 0));
        all.writeBytes(EmbeddedDonorClient.readFrame(102, 1, 99));
        all.writeBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HEARTBEAT, 103, new Heartbeat(3)));
        List<Reply> replies = c.sendRaw(all);
        assertThat(replies).extracting(Reply::requestId).containsExactly(100L, 101L, 102L, 103L);
        assertThat(replies).extracting(Reply::opcode).containsExactly(Opcode.WRITE_PAGES_OK, Opcode.READ_PAGES_OK,
                Opcode.ERROR, Opcode.HEARTBEAT_OK);
        assertThat(replies.get(1).pages().get(0)).isEqualTo(Page.filled(0, 1, 1));
    }

    @Test
    void anotherIdentityCannotTouchTheFirstsSlab() {
        EmbeddedDonorClient owner = helloed("owner");
        assertOk(owner.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        Page mine = Page.filled(0, 3, 33);
        assertOk(owner.write(1, mine), Opcode.WRITE_PAGES_OK);

        EmbeddedDonorClient intruder = helloed("intruder");
        assertError(intruder.read(1, 0), ErrorCode.NO_SUCH_SLAB, "no slab 1 belongs to client 'intruder'");
        assertError(intruder.write(1, Page.filled(0, 9, 99)), ErrorCode.NO_SUCH_SLAB, "no slab 1");
        assertError(intruder.free(1), ErrorCode.NO_SUCH_SLAB, "no slab 1");
        // Slab ids are per identity: the intruder's own slab 1 is a different slab.
        assertOk(intruder.alloc(1, PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(intruder.write(1, Page.filled(0, 9, 99)), Opcode.WRITE_PAGES_OK);
        assertOk(intruder.free(1), Opcode.FREE_SLAB_OK);

        assertThat(owner.read(1, 0).pages().get(0)).isEqualTo(mine);
        assertThat(store.lentBytes()).isEqualTo(4 * PAGE);

        // A second connection of the same identity does see it.
        EmbeddedDonorClient sameOwner = helloed("owner");
        assertThat(sameOwner.read(1, 0).pages().get(0)).isEqualTo(mine);
    }

    @Test
    void listSlabsShowsOnlyTheCallersOwnSlabs() {
        EmbeddedDonorClient alpha = helloed("alpha");
        EmbeddedDonorClient beta = helloed("beta");
        assertOk(alpha.alloc(7, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(alpha.alloc(3, 8 * PAGE), Opcode.ALLOC_SLAB_OK);
        assertOk(beta.alloc(7, 4 * PAGE), Opcode.ALLOC_SLAB_OK);

        Reply a = alpha.callEmpty(Opcode.LIST_SLABS);
        assertThat(a.opcode()).isEqualTo(Opcode.LIST_SLABS_OK);
        assertThat(a.decode(SlabList::decode).slabs())
                .containsExactly(new SlabList.Entry(3, 8 * PAGE), new SlabList.Entry(7, 4 * PAGE));
        assertThat(beta.callEmpty(Opcode.LIST_SLABS).decode(SlabList::decode).slabs())
                .containsExactly(new SlabList.Entry(7, 4 * PAGE));
    }

    @Test
    void readIndexGivesEachPagesVersionAndCrcAndChecksItsRange() {
        EmbeddedDonorClient c = helloed("app");
        assertOk(c.alloc(1, 4 * PAGE), Opcode.ALLOC_SLAB_OK);
        Page p2 = Page.filled(2, 9, 20);
        assertOk(c.write(1, p2), Opcode.WRITE_PAGES_OK);

        Reply r = c.call(Opcode.READ_INDEX, new IndexRequest(1, 1, 3));
        PageIndex index = r.decode(PageIndex::decode);
        assertThat(index.versions()).containsExactly(0, 9, 0);
        assertThat(index.crcs()).containsExactly(Slab.ZERO_PAGE_CRC, p2.crc(), Slab.ZERO_PAGE_CRC);

        assertError(c.call(Opcode.READ_INDEX, new IndexRequest(1, 2, 3)), ErrorCode.PAGE_OUT_OF_RANGE, "page 4");
        assertError(c.call(Opcode.READ_INDEX, new IndexRequest(1, 0, 0)), ErrorCode.BAD_FRAME, "asks for 0 pages");
        assertError(c.call(Opcode.READ_INDEX, new IndexRequest(2, 0, 1)), ErrorCode.NO_SUCH_SLAB, "no slab 2");
        EmbeddedDonorClient other = helloed("other");
        assertError(other.call(Opcode.READ_INDEX, new IndexRequest(1, 0, 1)), ErrorCode.NO_SUCH_SLAB, "no slab 1");
    }
}
