package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

class FrameDecoderTest {
    private static final int CAP = 1 << 20;

    /** What a decoded frame carried, copied out so the frame can be released at once. */
    record Decoded(int opcode, long requestId, byte[] body) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Decoded d && d.opcode == opcode && d.requestId == requestId
                    && Arrays.equals(d.body, body);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(requestId) * 31 + opcode;
        }

        @Override
        public String toString() {
            return "Decoded[0x" + Integer.toHexString(opcode) + " #" + requestId + ", " + body.length + " bytes]";
        }
    }

    // --- framing ------------------------------------------------------------------------------------------------

    @Test
    void severalFramesInOneBufferComeOutInOrder() {
        byte[] stream = sampleStream();
        List<Decoded> frames = feed(stream, new int[0]);

        assertThat(frames).extracting(Decoded::opcode).containsExactly(Opcode.HELLO.code(), Opcode.STATS.code(),
                Opcode.HEARTBEAT.code(), Opcode.WRITE_PAGES.code(), Opcode.ERROR.code(), 0x42);
        assertThat(frames).extracting(Decoded::requestId).containsExactly(1L, 2L, 3L, -4L, Long.MAX_VALUE, 0L);
        assertThat(frames.get(0).body()).isEqualTo(bodyOf(Opcode.HELLO, new Hello(1, "h\u00e9llo", SAMPLE_NONCE)));
        assertThat(frames.get(1).body()).isEmpty();
        assertThat(Heartbeat.decode(Unpooled.wrappedBuffer(frames.get(2).body()))).isEqualTo(new Heartbeat(99));
        assertThat(frames.get(3).body()).hasSize((int) PageBatch.bodySize(1));
        assertThat(frames.get(5).body()).containsExactly(7, 8, 9);
        int total = frames.stream().mapToInt(f -> FrameHeader.SIZE + f.body().length).sum();
        assertThat(total).isEqualTo(stream.length);
    }

    @Test
    void inPlaceDecoderHandsOnTheSameFramesThroughOneReusedFrameWhileTheBytesAreThere() {
        byte[] stream = sampleStream();
        List<Decoded> expected = feed(stream, new int[0]);
        Random random = new Random(13);
        for (int run = 0; run < 50; run++) {
            List<Decoded> seen = new ArrayList<>();
            Set<Frame> instances = Collections.newSetFromMap(new IdentityHashMap<>());
            EmbeddedChannel ch = new EmbeddedChannel(FrameDecoder.inPlace(CAP), new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    Frame f = (Frame) msg;
                    instances.add(f);
                    seen.add(new Decoded(f.opcodeCode(), f.requestId(),
                            ByteBufUtil.getBytes(f.buffer(), f.bodyIndex(), f.bodyLength())));
                    assertThat(ByteBufUtil.getBytes(f.body())).isEqualTo(seen.get(seen.size() - 1).body());
                    assertThatThrownBy(f::retain).isInstanceOf(UnsupportedOperationException.class);
                }
            });
            List<ByteBuf> pieces = new ArrayList<>();
            for (int from = 0; from < stream.length; ) {
                int n = Math.min(stream.length - from, 1 + random.nextInt(2 * FrameHeader.PAGE_SIZE));
                pieces.add(Unpooled.copiedBuffer(stream, from, n));
                from += n;
            }
            for (ByteBuf piece : pieces) {
                ch.writeInbound(piece);
            }

            assertThat(seen).as("run %d", run).isEqualTo(expected);
            assertThat(instances).as("one frame object for all").hasSize(1);
            assertThat(ch.<Object>readInbound()).as("nothing left queued").isNull();
            assertThat(ch.finish()).isFalse();
            for (ByteBuf piece : pieces) {
                assertThat(piece.refCnt()).isZero();
            }
        }
    }

    /**
     * A handler behind the in-place decoder may turn auto-read off (the donor's backpressure): a read that handed a
     * frame on must then not ask for another read (netty's decoder would, seeing nothing in its output list), while a
     * read that brought only part of a frame must, or the frame would never complete.
     */
    @Test
    void inPlaceDecoderRespectsAutoReadOffOnceAFrameWasHandedOn() {
        int[] reads = {0};
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void read(ChannelHandlerContext ctx) throws Exception {
                reads[0]++;
                super.read(ctx);
            }
        }, FrameDecoder.inPlace(CAP), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.channel().config().setAutoRead(false);
            }
        });
        ByteBuf frame = Unpooled.buffer();
        finishHeartbeat(frame, 7);
        byte[] bytes = ByteBufUtil.getBytes(frame);
        frame.release();

        reads[0] = 0;
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        assertThat(ch.config().isAutoRead()).isFalse();
        assertThat(reads[0]).as("reads asked for after a frame was handed on").isZero();

        ch.writeInbound(Unpooled.wrappedBuffer(bytes, 0, FrameHeader.SIZE + 2));
        assertThat(reads[0]).as("reads asked for after a partial frame").isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    private static void finishHeartbeat(ByteBuf out, long requestId) {
        int start = Frames.begin(out, Opcode.HEARTBEAT, requestId);
        new Heartbeat(42).encode(out);
        Frames.finish(out, start);
    }

    @Test
    void splitAtEveryByteBoundaryDecodesIdentically() {
        byte[] stream = sampleStream();
        List<Decoded> whole = feed(stream, new int[0]);
        for (int cut = 1; cut < stream.length; cut++) {
            assertThat(feed(stream, new int[] {cut})).as("split at %d", cut).isEqualTo(whole);
        }
    }

    @Test
    void byteByByteDecodesIdentically() {
        byte[] stream = sampleStream();
        int[] cuts = new int[stream.length - 1];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        assertThat(feed(stream, cuts)).isEqualTo(feed(stream, new int[0]));
    }

    @Test
    void randomChunksDecodeIdentically() {
        byte[] stream = sampleStream();
        List<Decoded> whole = feed(stream, new int[0]);
        Random random = new Random(20240611);
        for (int round = 0; round < 300; round++) {
            int pieces = 1 + random.nextInt(40);
            int[] cuts = random.ints(pieces, 1, stream.length).sorted().distinct().toArray();
            assertThat(feed(stream, cuts)).as("cuts %s", Arrays.toString(cuts)).isEqualTo(whole);
        }
    }

    @Test
    void unknownOpcodeInAGoodFrameIsPassedOn() {
        EmbeddedChannel ch = channel(CAP);
        ch.writeInbound(Unpooled.wrappedBuffer(rawFrame(0x42, 5, new byte[] {1, 2})));
        Frame frame = ch.readInbound();
        try {
            assertThat(frame.opcode()).isNull();
            assertThat(frame.opcodeCode()).isEqualTo(0x42);
            assertThat(frame.toString()).contains("0x42");
        } finally {
            frame.release();
        }
    }

    @Test
    void frameOfExactlyTheCapIsAcceptedAndEmptyBodiesAreFine() {
        int cap = 1024;
        EmbeddedChannel ch = channel(cap);
        ch.writeInbound(Unpooled.wrappedBuffer(rawFrame(Opcode.STATS.code(), 1, new byte[cap - FrameHeader.SIZE])));
        ch.writeInbound(Unpooled.wrappedBuffer(rawFrame(Opcode.STATS.code(), 2, new byte[0])));
        List<Decoded> frames = drain(ch);
        assertThat(frames).extracting(f -> f.body().length).containsExactly(cap - FrameHeader.SIZE, 0);
    }

    @Test
    void truncatedBodyProducesNoFrame() {
        byte[] good = rawFrame(Opcode.HEARTBEAT.code(), 1, new byte[8]);
        byte[] partial = Arrays.copyOf(rawFrame(Opcode.WRITE_PAGES.code(), 2, new byte[100]), FrameHeader.SIZE + 50);
        EmbeddedChannel ch = channel(CAP);
        ch.writeInbound(Unpooled.wrappedBuffer(concat(good, partial)));
        assertThat(drain(ch)).extracting(Decoded::requestId).containsExactly(1L);
        // A header alone (no body byte yet) is no frame either.
        EmbeddedChannel headerOnly = channel(CAP);
        headerOnly.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOf(good, FrameHeader.SIZE)));
        assertThat(drain(headerOnly)).isEmpty();
        // Closing the connection with a partial frame buffered yields nothing and raises nothing.
        assertThat(ch.finish()).isFalse();
        assertThat(headerOnly.finish()).isFalse();
    }

    // --- fatal header errors ------------------------------------------------------------------------------------

    @Test
    void badMagicIsFatalBadFrameNamingTheMagic() {
        byte[] frame = rawFrame(Opcode.HEARTBEAT.code(), 1, new byte[8]);
        frame[FrameHeader.MAGIC_OFFSET] = (byte) 0xBE;
        frame[FrameHeader.MAGIC_OFFSET + 1] = (byte) 0xEF;
        ProtocolException e = fatalOnHeader(frame, CAP);
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(e.getMessage()).contains("0xbeef").contains("magic");
    }

    @Test
    void wrongVersionIsFatalUnsupportedVersion() {
        for (int version : new int[] {0, 2, 0x7F, 0xFF}) {
            byte[] frame = rawFrame(Opcode.HEARTBEAT.code(), 1, new byte[8]);
            frame[FrameHeader.VERSION_OFFSET] = (byte) version;
            ProtocolException e = fatalOnHeader(frame, CAP);
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
            assertThat(e.getMessage()).contains("version " + version);
        }
    }

    @Test
    void lengthAboveTheCapIsFatalBadFrame() {
        int cap = 4096;
        byte[] frame = rawFrame(Opcode.STATS.code(), 1, new byte[cap - FrameHeader.SIZE + 1]);
        ProtocolException e = fatalOnHeader(frame, cap);
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(e.getMessage()).contains("frame length " + (cap + 1)).contains(String.valueOf(cap));
    }

    @Test
    void lengthBelowTheHeaderIsFatalBadFrame() {
        for (int lengthField = 0; lengthField < FrameHeader.SIZE - FrameHeader.LENGTH_FIELD_SIZE; lengthField++) {
            byte[] header = header(lengthField, FrameHeader.MAGIC, FrameHeader.VERSION, Opcode.STATS.code(), 1);
            ProtocolException e = fatalOnHeader(concat(header, new byte[64]), CAP);
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
            assertThat(e.getMessage()).contains("frame length " + (lengthField + FrameHeader.LENGTH_FIELD_SIZE));
        }
    }

    @Test
    void hugeAnnouncedLengthFailsAsSoonAsTheHeaderIsInWithoutWaitingForTheBody() {
        long twoGiB = 1L << 31;
        for (long lengthField : new long[] {twoGiB - FrameHeader.LENGTH_FIELD_SIZE, 0xFFFF_FFFFL, 0x8000_0000L,
                CAP - FrameHeader.LENGTH_FIELD_SIZE + 1}) {
            byte[] header = header((int) lengthField, FrameHeader.MAGIC, FrameHeader.VERSION,
                    Opcode.WRITE_PAGES.code(), 9);
            EmbeddedChannel ch = channel(CAP);
            // 15 bytes: not a header yet, nothing to judge.
            ch.writeInbound(Unpooled.wrappedBuffer(header, 0, FrameHeader.SIZE - 1));
            ByteBuf last = Unpooled.wrappedBuffer(header, FrameHeader.SIZE - 1, 1);
            Throwable thrown = catchThrowable(() -> ch.writeInbound(last));
            ProtocolException e = unwrapFatal(thrown);
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
            assertThat(e.getMessage()).contains("frame length " + (lengthField + FrameHeader.LENGTH_FIELD_SIZE));
            // The body that follows is dropped as it arrives, not buffered.
            ByteBuf body = Unpooled.buffer(1 << 20).writeZero(1 << 20);
            assertThat(ch.writeInbound(body)).isFalse();
            assertThat(body.refCnt()).as("dropped body released").isZero();
            assertThat(drain(ch)).isEmpty();
            ch.finish();
        }
    }

    @Test
    void afterAFatalErrorFurtherBytesProduceNoFrames() {
        byte[] bad = rawFrame(Opcode.HEARTBEAT.code(), 1, new byte[8]);
        bad[FrameHeader.MAGIC_OFFSET] = 0;
        byte[] good = rawFrame(Opcode.HEARTBEAT.code(), 2, new byte[8]);
        EmbeddedChannel ch = channel(CAP);
        // Good frames after the bad header, in the same buffer and in later ones.
        Throwable thrown = catchThrowable(() -> ch.writeInbound(Unpooled.wrappedBuffer(concat(bad, good, good))));
        assertThat(unwrapFatal(thrown).code()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(drain(ch)).isEmpty();
        for (int i = 0; i < 5; i++) {
            ByteBuf more = Unpooled.wrappedBuffer(good.clone());
            assertThat(ch.writeInbound(more)).isFalse();
            assertThat(more.refCnt()).isZero();
            ch.checkException();
        }
        assertThat(drain(ch)).isEmpty();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void goodFramesBeforeABadHeaderAreStillDelivered() {
        byte[] good = rawFrame(Opcode.HEARTBEAT.code(), 1, new byte[8]);
        byte[] bad = rawFrame(Opcode.HEARTBEAT.code(), 2, new byte[8]);
        bad[FrameHeader.VERSION_OFFSET] = 9;
        EmbeddedChannel ch = channel(CAP);
        Throwable thrown = catchThrowable(() -> ch.writeInbound(Unpooled.wrappedBuffer(concat(good, bad, good))));
        assertThat(unwrapFatal(thrown).code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
        assertThat(drain(ch)).extracting(Decoded::requestId).containsExactly(1L);
    }

    @Test
    void rejectsACapSmallerThanAHeader() {
        assertThatThrownBy(() -> new FrameDecoder(FrameHeader.SIZE - 1)).isInstanceOf(IllegalArgumentException.class);
    }

    // --- body-level errors: non-fatal, naming the message type ---------------------------------------------------

    /** A fixed client nonce, so the sample stream is the same bytes every time. */
    static final byte[] SAMPLE_NONCE = new byte[AuthProof.BYTES];

    /** A HELLO body of version 1: the identity length and bytes as given, then a (zero) nonce. */
    private static ByteBuf helloBody(int... lengthAndIdentity) {
        return buf(1).writeBytes(buf(lengthAndIdentity)).writeZero(AuthProof.BYTES);
    }

    @Test
    void helloNonceMustBeExactly32Bytes() {
        assertBadBody("HELLO body is 34 bytes (expected >= 35)",
                () -> Hello.decode(buf(1, 1, 'a').writeZero(AuthProof.BYTES - 1)));
        assertBadBody("HELLO identity and nonce body is 34 bytes (expected 33)",
                () -> Hello.decode(buf(1, 1, 'a').writeZero(AuthProof.BYTES + 1)));
        assertThat(Hello.decode(buf(1, 1, 'a').writeZero(AuthProof.BYTES)).clientNonce())
                .isEqualTo(new byte[AuthProof.BYTES]);
    }

    @Test
    void helloBodyErrors() {
        assertBadBody("HELLO", () -> Hello.decode(buf(1, 1)));
        assertBadBody("HELLO", () -> Hello.decode(buf(1, 5, 'a', 'b')));
        assertBadBody("HELLO", () -> Hello.decode(buf(1, 1, 'a', 'b')));
        assertBadBody("HELLO", () -> Hello.decode(buf(1, 0, 'a')));
        assertBadBody("HELLO", () -> Hello.decode(buf(1, 0)));
        assertBadBody("HELLO identity is not valid UTF-8", () -> Hello.decode(helloBody(2, 0xC3, 0x28)));
        assertBadBody("HELLO identity is not valid UTF-8", () -> Hello.decode(helloBody(1, 0xFF)));
        // Overlong encoding of '/' and a UTF-16 surrogate encoded as UTF-8 (CESU): both malformed.
        assertBadBody("HELLO identity is not valid UTF-8", () -> Hello.decode(helloBody(2, 0xC0, 0xAF)));
        assertBadBody("HELLO identity is not valid UTF-8", () -> Hello.decode(helloBody(3, 0xED, 0xA0, 0x80)));
        // A truncated multi-byte character.
        assertBadBody("HELLO identity is not valid UTF-8", () -> Hello.decode(helloBody(2, 0xE2, 0x82)));
    }

    @Test
    void fixedSizeBodyErrors() {
        assertWrongSizesRejected("HELLO_OK", HelloOk.SIZE, HelloOk::decode);
        assertWrongSizesRejected("STATS_OK", DonorStats.SIZE, DonorStats::decode);
        assertWrongSizesRejected("ALLOC_SLAB", SlabAlloc.SIZE, SlabAlloc::decode);
        assertWrongSizesRejected("FREE_SLAB", SlabRef.SIZE, b -> SlabRef.decode(b, "FREE_SLAB"));
        assertWrongSizesRejected("ALLOC_SLAB_OK", SlabRef.SIZE, b -> SlabRef.decode(b, "ALLOC_SLAB_OK"));
        assertWrongSizesRejected("HEARTBEAT", Heartbeat.SIZE, Heartbeat::decode);
        assertWrongSizesRejected("WRITE_PAGES_OK", PagesAck.SIZE, PagesAck::decode);
        assertBadBody("STATS", () -> Frames.requireEmpty(buf(0), "STATS"));
        Frames.requireEmpty(buf(), "STATS");
    }

    @Test
    void errorBodyErrors() {
        assertBadBody("ERROR", () -> ErrorReply.decode(buf(0, 1, 0)));
        assertBadBody("ERROR message", () -> ErrorReply.decode(buf(0, 1, 0, 3, 'a')));
        assertBadBody("ERROR message", () -> ErrorReply.decode(buf(0, 1, 0, 1, 'a', 'b')));
        assertBadBody("ERROR with unknown code 0", () -> ErrorReply.decode(buf(0, 0, 0, 0)));
        assertBadBody("ERROR with unknown code 99", () -> ErrorReply.decode(buf(0, 99, 0, 0)));
        assertBadBody("ERROR with unknown code 65535", () -> ErrorReply.decode(buf(0xFF, 0xFF, 0, 0)));
        assertBadBody("ERROR message is not valid UTF-8", () -> ErrorReply.decode(buf(0, 1, 0, 1, 0x80)));
        ByteBuf tooLong = Unpooled.buffer().writeShort(1).writeShort(1025).writeZero(1025);
        assertBadBody("ERROR message of 1025 bytes", () -> ErrorReply.decode(tooLong));
        // Every known code decodes.
        for (ErrorCode code : ErrorCode.values()) {
            assertThat(ErrorReply.decode(Unpooled.buffer().writeShort(code.code()).writeShort(0)))
                    .isEqualTo(new ErrorReply(code, ""));
        }
    }

    @Test
    void pageBatchBodyErrors() {
        assertBadBody("WRITE_PAGES", () -> new PageBatch().wrap(buf(1, 2, 3), "WRITE_PAGES"));
        assertBadBody("WRITE_PAGES carries no pages", () -> new PageBatch().wrap(batchBody(0, 0), "WRITE_PAGES"));
        assertBadBody("WRITE_PAGES says 2 pages", () -> new PageBatch().wrap(batchBody(2, 1), "WRITE_PAGES"));
        assertBadBody("READ_PAGES_OK says 1 pages", () -> new PageBatch().wrap(batchBody(1, 2), "READ_PAGES_OK"));
        assertBadBody("WRITE_PAGES says 4294967295 pages",
                () -> new PageBatch().wrap(batchBody(0xFFFF_FFFFL, 1), "WRITE_PAGES"));
        ByteBuf oneExtra = batchBody(1, 1).writeByte(0);
        assertBadBody("WRITE_PAGES says 1 pages", () -> new PageBatch().wrap(oneExtra, "WRITE_PAGES"));
        ByteBuf oneShort = batchBody(1, 1);
        oneShort.writerIndex(oneShort.writerIndex() - 1);
        assertBadBody("WRITE_PAGES says 1 pages", () -> new PageBatch().wrap(oneShort, "WRITE_PAGES"));
        assertThat(new PageBatch().wrap(batchBody(3, 3), "WRITE_PAGES").count()).isEqualTo(3);
    }

    @Test
    void readPagesBodyErrors() {
        assertBadBody("READ_PAGES", () -> new PageIndexList().wrap(buf(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        assertBadBody("READ_PAGES asks for no pages", () -> new PageIndexList().wrap(indexBody(0, 0)));
        assertBadBody("READ_PAGES says 3 pages", () -> new PageIndexList().wrap(indexBody(3, 2)));
        assertBadBody("READ_PAGES says 1 pages", () -> new PageIndexList().wrap(indexBody(1, 2)));
        assertBadBody("READ_PAGES says 4294967295 pages", () -> new PageIndexList().wrap(indexBody(0xFFFF_FFFFL, 1)));
        ByteBuf ragged = indexBody(1, 1).writeByte(0);
        assertBadBody("READ_PAGES says 1 pages", () -> new PageIndexList().wrap(ragged));
        assertThat(new PageIndexList().wrap(indexBody(2, 2)).count()).isEqualTo(2);
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    private static void assertWrongSizesRejected(String name, int size, java.util.function.Consumer<ByteBuf> decode) {
        for (int wrong : new int[] {0, size - 1, size + 1, size * 2}) {
            assertBadBody(name + " body is " + wrong + " bytes (expected " + size + ")",
                    () -> decode.accept(Unpooled.buffer().writeZero(wrong)));
        }
        decode.accept(Unpooled.buffer().writeZero(size));
    }

    private static void assertBadBody(String messagePart, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.fatal()).as("body errors are not fatal").isFalse();
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
            assertThat(e.getMessage()).contains(messagePart);
        });
    }

    private static ByteBuf batchBody(long declared, int entries) {
        ByteBuf b = Unpooled.buffer().writeLong(77).writeInt((int) declared);
        for (int i = 0; i < entries; i++) {
            b.writeInt(i).writeInt(0).writeLong(1).writeZero(PageBatch.TAG_SIZE).writeZero(FrameHeader.PAGE_SIZE);
        }
        return b;
    }

    private static ByteBuf indexBody(long declared, int entries) {
        ByteBuf b = Unpooled.buffer().writeLong(77).writeInt((int) declared);
        for (int i = 0; i < entries; i++) {
            b.writeInt(i);
        }
        return b;
    }

    private static ByteBuf buf(int... bytes) {
        ByteBuf b = Unpooled.buffer(bytes.length);
        for (int x : bytes) {
            b.writeByte(x);
        }
        return b;
    }

    /** Feeds the 16-byte header byte by byte: nothing before the 16th, a fatal error on it. */
    private static ProtocolException fatalOnHeader(byte[] frame, int cap) {
        EmbeddedChannel ch = channel(cap);
        for (int i = 0; i < FrameHeader.SIZE - 1; i++) {
            assertThat(ch.writeInbound(Unpooled.wrappedBuffer(frame, i, 1))).isFalse();
        }
        Throwable thrown = catchThrowable(() -> ch.writeInbound(Unpooled.wrappedBuffer(frame, FrameHeader.SIZE - 1,
                1)));
        ProtocolException e = unwrapFatal(thrown);
        // The rest of the frame changes nothing.
        ch.writeInbound(Unpooled.wrappedBuffer(frame, FrameHeader.SIZE, frame.length - FrameHeader.SIZE));
        ch.checkException();
        assertThat(drain(ch)).isEmpty();
        assertThat(ch.finish()).isFalse();
        return e;
    }

    static ProtocolException unwrapFatal(Throwable thrown) {
        assertThat(thrown).isInstanceOf(DecoderException.class);
        assertThat(thrown.getCause()).isInstanceOf(ProtocolException.class);
        ProtocolException e = (ProtocolException) thrown.getCause();
        assertThat(e.fatal()).as("header errors are fatal").isTrue();
        return e;
    }

    static EmbeddedChannel channel(int cap) {
        return new EmbeddedChannel(new FrameDecoder(cap));
    }

    /** Feeds {@code stream} cut at {@code cuts} (ascending offsets) and returns what came out. */
    private static List<Decoded> feed(byte[] stream, int[] cuts) {
        EmbeddedChannel ch = channel(CAP);
        List<ByteBuf> pieces = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            pieces.add(Unpooled.copiedBuffer(stream, from, cut - from));
            from = cut;
        }
        pieces.add(Unpooled.copiedBuffer(stream, from, stream.length - from));
        for (ByteBuf piece : pieces) {
            ch.writeInbound(piece);
        }
        List<Decoded> out = drain(ch);
        assertThat(ch.finish()).isFalse();
        for (ByteBuf piece : pieces) {
            assertThat(piece.refCnt()).isZero();
        }
        return out;
    }

    static List<Decoded> drain(EmbeddedChannel ch) {
        List<Decoded> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            Frame f = (Frame) o;
            out.add(new Decoded(f.opcodeCode(), f.requestId(), ByteBufUtil.getBytes(f.body())));
            f.release();
        }
        return out;
    }

    /** HELLO, STATS (empty), HEARTBEAT, a one-page WRITE_PAGES, an ERROR and an unknown opcode. */
    static byte[] sampleStream() {
        ByteBuf all = Unpooled.buffer();
        List<ByteBuf> parts = List.of(
                Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HELLO, 1,
                        new Hello(1, "h\u00e9llo", SAMPLE_NONCE)),
                Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.STATS, 2, new EmptyBody()),
                Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HEARTBEAT, 3, new Heartbeat(99)));
        for (ByteBuf p : parts) {
            all.writeBytes(p);
            p.release();
        }
        byte[] page = new byte[FrameHeader.PAGE_SIZE];
        new Random(5).nextBytes(page);
        PageBatchEncoder enc = new PageBatchEncoder().begin(all, Opcode.WRITE_PAGES, -4, 11);
        enc.add(3, 1, PageChecksum.crc32c(page, 0), page, 0);
        enc.finish();
        ByteBuf err = Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.ERROR, Long.MAX_VALUE,
                new ErrorReply(ErrorCode.NO_SPACE, "full \u2603"));
        all.writeBytes(err);
        err.release();
        all.writeBytes(rawFrame(0x42, 0, new byte[] {7, 8, 9}));
        return ByteBufUtil.getBytes(all);
    }

    private static byte[] bodyOf(Opcode op, MessageBody body) {
        ByteBuf b = Frames.encode(UnpooledByteBufAllocator.DEFAULT, op, 0, body);
        byte[] bytes = ByteBufUtil.getBytes(b, FrameHeader.SIZE, b.readableBytes() - FrameHeader.SIZE);
        b.release();
        return bytes;
    }

    static byte[] header(int lengthField, int magic, int version, int opcode, long requestId) {
        return ByteBufUtil.getBytes(Unpooled.buffer(FrameHeader.SIZE).writeInt(lengthField).writeShort(magic)
                .writeByte(version).writeByte(opcode).writeLong(requestId));
    }

    static byte[] rawFrame(int opcode, long requestId, byte[] body) {
        return concat(header(FrameHeader.SIZE - FrameHeader.LENGTH_FIELD_SIZE + body.length, FrameHeader.MAGIC,
                FrameHeader.VERSION, opcode, requestId), body);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private record EmptyBody() implements MessageBody {
        @Override
        public int encodedSize() {
            return 0;
        }

        @Override
        public void encode(ByteBuf out) {
        }
    }
}
