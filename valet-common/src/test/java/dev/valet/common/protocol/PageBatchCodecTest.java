package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Page batches and page index lists through the real encoder, frame decoder and flyweights. */
class PageBatchCodecTest {
    private static final int CAP = 1 << 20;

    @Property(tries = 60)
    void pageBatchRoundTripsAndEveryChecksumIsPageLocal(@ForAll @IntRange(min = 1, max = 12) int pages,
            @ForAll long slabId, @ForAll long requestId, @ForAll long seed,
            @ForAll("batchOpcodes") Opcode opcode) {
        Random random = new Random(seed);
        byte[][] data = new byte[pages][FrameHeader.PAGE_SIZE];
        long[] indexes = new long[pages];
        long[] versions = new long[pages];
        int[] crcs = new int[pages];
        ByteBuf src = Unpooled.buffer(pages * FrameHeader.PAGE_SIZE);
        for (int i = 0; i < pages; i++) {
            random.nextBytes(data[i]);
            // Page indexes cover the whole unsigned 32-bit range, versions the whole signed 64-bit one.
            indexes[i] = random.nextInt() & 0xFFFF_FFFFL;
            versions[i] = random.nextLong();
            crcs[i] = PageChecksum.crc32c(data[i], 0);
            src.writeBytes(data[i]);
        }

        ByteBuf out = Unpooled.buffer(PageBatchEncoder.frameSize(pages));
        PageBatchEncoder encoder = new PageBatchEncoder().begin(out, opcode, requestId, slabId);
        for (int i = 0; i < pages; i++) {
            // Both add() flavours: from a byte[] and from a ByteBuf.
            if (i % 2 == 0) {
                encoder.add(indexes[i], versions[i], crcs[i], data[i], 0);
            } else {
                encoder.add(indexes[i], versions[i], crcs[i], src, i * FrameHeader.PAGE_SIZE);
            }
        }
        assertThat(encoder.count()).isEqualTo(pages);
        assertThat(encoder.finish()).isEqualTo(pages);
        assertThat(out.readableBytes()).isEqualTo(PageBatchEncoder.frameSize(pages));
        src.release();

        Frame frame = decodeOne(out);
        try {
            assertThat(frame.opcode()).isEqualTo(opcode);
            assertThat(frame.requestId()).isEqualTo(requestId);
            assertThat((long) frame.body().readableBytes()).isEqualTo(PageBatch.bodySize(pages));

            PageBatch batch = new PageBatch().wrap(frame.body(), opcode.name());
            assertThat(batch.slabId()).isEqualTo(slabId);
            assertThat(batch.count()).isEqualTo(pages);
            for (int i = 0; i < pages; i++) {
                assertThat(batch.pageIndex(i)).isEqualTo(indexes[i]);
                assertThat(batch.version(i)).isEqualTo(versions[i]);
                assertThat(batch.crc(i)).isEqualTo(crcs[i]);
                assertThat(ByteBufUtil.getBytes(batch.buffer(), batch.dataIndex(i), FrameHeader.PAGE_SIZE))
                        .isEqualTo(data[i]);
                assertThat(batch.checksumValid(i)).isTrue();
            }

            // Flip one data bit of one page: only that page's checksum fails.
            int victim = random.nextInt(pages);
            int at = batch.dataIndex(victim) + random.nextInt(FrameHeader.PAGE_SIZE);
            int bit = 1 << random.nextInt(8);
            ByteBuf buf = batch.buffer();
            buf.setByte(at, buf.getByte(at) ^ bit);
            for (int i = 0; i < pages; i++) {
                assertThat(batch.checksumValid(i)).as("page %d after flipping a bit of page %d", i, victim)
                        .isEqualTo(i != victim);
            }
            buf.setByte(at, buf.getByte(at) ^ bit);
            assertThat(batch.checksumValid(victim)).isTrue();

            assertThatThrownBy(() -> batch.pageIndex(pages)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> batch.version(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        } finally {
            frame.release();
        }
        assertThat(out.refCnt()).isZero();
    }

    @Property(tries = 200)
    void pageIndexListRoundTrips(@ForAll("indexLists") long[] indexes, @ForAll long slabId,
            @ForAll long requestId) {
        ByteBuf out = Unpooled.buffer();
        // Trailing slots beyond count must not be written.
        long[] padded = Arrays.copyOf(indexes, indexes.length + 3);
        padded[indexes.length] = 0xDEAD;
        PageIndexList.encode(out, requestId, slabId, padded, indexes.length);
        assertThat(out.readableBytes()).isEqualTo(PageIndexList.frameSize(indexes.length));

        Frame frame = decodeOne(out);
        try {
            assertThat(frame.opcode()).isEqualTo(Opcode.READ_PAGES);
            assertThat(frame.requestId()).isEqualTo(requestId);
            PageIndexList list = new PageIndexList().wrap(frame.body());
            assertThat(list.slabId()).isEqualTo(slabId);
            assertThat(list.count()).isEqualTo(indexes.length);
            for (int i = 0; i < indexes.length; i++) {
                assertThat(list.pageIndex(i)).isEqualTo(indexes[i]);
            }
            assertThatThrownBy(() -> list.pageIndex(indexes.length)).isInstanceOf(IndexOutOfBoundsException.class);
        } finally {
            frame.release();
        }
        assertThat(out.refCnt()).isZero();
    }

    @Property(tries = 300)
    void maxPagesIsTheLargestBatchThatFitsTheCap(
            @ForAll @IntRange(min = FrameHeader.SIZE, max = FrameHeader.MAX_FRAME_BYTES) int cap) {
        checkMaxPages(cap);
    }

    @Example
    void maxPagesAtTheEdges() {
        for (int pages = 0; pages <= 20; pages++) {
            int size = PageBatchEncoder.frameSize(pages);
            checkMaxPages(size - 1);
            checkMaxPages(size);
            checkMaxPages(size + 1);
            assertThat(PageBatch.maxPages(size)).isEqualTo(pages);
            if (pages > 0) {
                assertThat(PageBatch.maxPages(size - 1)).isEqualTo(pages - 1);
            }
        }
        assertThat(PageBatch.maxPages(1 << 20)).isEqualTo(254);
        checkMaxPages(FrameHeader.MAX_FRAME_BYTES);
        assertThat(PageBatch.maxPages(FrameHeader.SIZE)).isZero();
    }

    private static void checkMaxPages(int cap) {
        if (cap < FrameHeader.SIZE) {
            return;
        }
        int n = PageBatch.maxPages(cap);
        assertThat(n).isNotNegative();
        if (n > 0) {
            assertThat(PageBatchEncoder.frameSize(n)).as("%d pages fit in %d", n, cap).isLessThanOrEqualTo(cap);
        }
        assertThat(PageBatchEncoder.frameSize(n + 1)).as("%d pages do not fit in %d", n + 1, cap)
                .isGreaterThan(cap);
    }

    @Example
    void frameSizeMatchesBodySize() {
        for (int n = 0; n < 10; n++) {
            assertThat((long) PageBatchEncoder.frameSize(n)).isEqualTo(FrameHeader.SIZE + PageBatch.bodySize(n));
        }
        assertThat(PageBatch.bodySize(1)).isEqualTo(12 + 32 + 4096);
    }

    static Frame decodeOne(ByteBuf encoded) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(CAP));
        channel.writeInbound(encoded);
        Frame frame = channel.readInbound();
        assertThat(frame).isNotNull();
        assertThat(channel.<Object>readInbound()).isNull();
        assertThat(channel.finish()).isFalse();
        return frame;
    }

    @Provide
    Arbitrary<Opcode> batchOpcodes() {
        return Arbitraries.of(Opcode.WRITE_PAGES, Opcode.READ_PAGES_OK);
    }

    @Provide
    Arbitrary<long[]> indexLists() {
        return Arbitraries.longs().between(0, 0xFFFF_FFFFL).array(long[].class).ofMinSize(1).ofMaxSize(300);
    }
}
