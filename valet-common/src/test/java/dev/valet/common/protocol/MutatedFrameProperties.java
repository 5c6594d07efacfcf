package dev.valet.common.protocol;

import dev.valet.common.protocol.FrameDecoderTest.Decoded;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Valid frames of every type, mutated (bytes flipped, truncated, garbage appended, length field overwritten), fed
 * to a {@link FrameDecoder} in random chunks. A small reference parser says what must come out; the decoder must
 * agree exactly: the same frames (so never a body whose length differs from its header), a fatal
 * {@link ProtocolException} wrapped in a {@link DecoderException} exactly when a header is broken, and nothing
 * else ever thrown. The body decoders, given whatever frames come out, throw nothing but non-fatal
 * {@link ProtocolException}s.
 */
class MutatedFrameProperties {
    private static final int CAP = 16 * 1024;

    /** Opcodes of the valid frames the fuzz starts from: every request and every reply. */
    private static final List<Opcode> KINDS = List.of(Opcode.values());

    sealed interface Mutation {
        byte[] apply(byte[] stream, int[] frameStarts);
    }

    record Flip(int position, int mask) implements Mutation {
        public byte[] apply(byte[] s, int[] starts) {
            if (s.length > 0) {
                s[Math.floorMod(position, s.length)] ^= (byte) mask;
            }
            return s;
        }
    }

    record Truncate(int keepPermille) implements Mutation {
        public byte[] apply(byte[] s, int[] starts) {
            return Arrays.copyOf(s, (int) ((long) s.length * keepPermille / 1000));
        }
    }

    record Append(byte[] garbage) implements Mutation {
        public byte[] apply(byte[] s, int[] starts) {
            return FrameDecoderTest.concat(s, garbage);
        }

        @Override
        public String toString() {
            return "Append[" + garbage.length + " bytes]";
        }
    }

    record SetLength(int frame, int value) implements Mutation {
        public byte[] apply(byte[] s, int[] starts) {
            int at = starts[Math.floorMod(frame, starts.length)];
            if (at + 4 <= s.length) {
                s[at] = (byte) (value >>> 24);
                s[at + 1] = (byte) (value >>> 16);
                s[at + 2] = (byte) (value >>> 8);
                s[at + 3] = (byte) value;
            }
            return s;
        }
    }

    @Property(tries = 600)
    void mutatedStreamsDecodeExactlyAsTheReferenceSays(@ForAll("frameKinds") @Size(min = 1, max = 3) List<Opcode> kinds,
            @ForAll("mutations") @Size(min = 1, max = 4) List<Mutation> mutations, @ForAll long seed) {
        Random random = new Random(seed);
        List<byte[]> frames = new ArrayList<>();
        for (Opcode op : kinds) {
            frames.add(validFrame(op, random));
        }
        int[] starts = new int[frames.size()];
        int offset = 0;
        for (int i = 0; i < frames.size(); i++) {
            starts[i] = offset;
            offset += frames.get(i).length;
        }
        byte[] stream = FrameDecoderTest.concat(frames.toArray(byte[][]::new));
        for (Mutation m : mutations) {
            stream = m.apply(stream, starts);
        }

        Expected expected = reference(stream);
        Statistics.label("outcome").collect(expected.fatal != null ? "fatal " + expected.fatal : "no error");
        Statistics.label("frames out").collect(Math.min(expected.frames.size(), 3));
        // The mutations must reach every outcome often enough to mean something.
        Statistics.label("outcome").coverage(c -> {
            c.check("no error").percentage(p -> p >= 15);
            c.check("fatal BAD_FRAME").percentage(p -> p >= 15);
        });
        Statistics.label("frames out").coverage(c -> c.check(0).percentage(p -> p <= 85));

        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(CAP));
        List<Decoded> actual = new ArrayList<>();
        ProtocolException fatal = null;
        List<ByteBuf> pieces = new ArrayList<>();
        int from = 0;
        while (from < stream.length) {
            int n = 1 + random.nextInt(Math.min(stream.length - from, 1 + random.nextInt(3000)));
            ByteBuf piece = Unpooled.copiedBuffer(stream, from, n);
            pieces.add(piece);
            from += n;
            try {
                ch.writeInbound(piece);
            } catch (Throwable t) {
                if (!(t instanceof DecoderException) || !(t.getCause() instanceof ProtocolException pe)) {
                    throw new AssertionError("decoder threw something other than DecoderException(ProtocolException)",
                            t);
                }
                assertThat(fatal).as("a second error after the first fatal one").isNull();
                assertThat(pe.fatal()).isTrue();
                fatal = pe;
            }
            for (Object o; (o = ch.readInbound()) != null; ) {
                Frame f = (Frame) o;
                try {
                    decodeBodyLeniently(f);
                    actual.add(new Decoded(f.opcodeCode(), f.requestId(), ByteBufUtil.getBytes(f.body())));
                } finally {
                    f.release();
                }
            }
        }
        ch.checkException();
        assertThat(ch.finish()).isFalse();
        assertThat(pieces).as("every received buffer released").allMatch(p -> p.refCnt() == 0);

        assertThat(actual).isEqualTo(expected.frames);
        if (expected.fatal == null) {
            assertThat(fatal).isNull();
        } else {
            assertThat(fatal).as("fatal error expected: %s", expected.fatal).isNotNull();
            assertThat(fatal.code()).isEqualTo(expected.fatal);
        }
    }

    @Property(tries = 300)
    void randomBytesNeverMisframe(@ForAll @Size(max = 2000) byte[] garbage, @ForAll boolean validMagicAndVersion) {
        byte[] stream = garbage.clone();
        if (validMagicAndVersion && stream.length >= FrameHeader.SIZE) {
            // Give the garbage a plausible header so the length check and the body path get exercised too.
            stream[FrameHeader.MAGIC_OFFSET] = (byte) (FrameHeader.MAGIC >> 8);
            stream[FrameHeader.MAGIC_OFFSET + 1] = (byte) FrameHeader.MAGIC;
            stream[FrameHeader.VERSION_OFFSET] = FrameHeader.VERSION;
            stream[0] = 0;
            stream[1] = 0;
        }
        Expected expected = reference(stream);
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(CAP));
        ProtocolException fatal = null;
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(stream));
        } catch (DecoderException e) {
            assertThat(e.getCause()).isInstanceOf(ProtocolException.class);
            fatal = (ProtocolException) e.getCause();
        }
        List<Decoded> actual = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            Frame f = (Frame) o;
            decodeBodyLeniently(f);
            actual.add(new Decoded(f.opcodeCode(), f.requestId(), ByteBufUtil.getBytes(f.body())));
            f.release();
        }
        assertThat(ch.finish()).isFalse();
        assertThat(actual).isEqualTo(expected.frames);
        assertThat(fatal == null ? null : fatal.code()).isEqualTo(expected.fatal);
    }

    // --- the reference --------------------------------------------------------------------------------------

    record Expected(List<Decoded> frames, ErrorCode fatal) {
    }

    /** Straight from the header layout in {@link FrameHeader}, independent of the decoder's code. */
    static Expected reference(byte[] s) {
        List<Decoded> frames = new ArrayList<>();
        int at = 0;
        while (s.length - at >= FrameHeader.SIZE) {
            ByteBuf h = Unpooled.wrappedBuffer(s, at, FrameHeader.SIZE);
            long length = h.readUnsignedInt();
            int magic = h.readUnsignedShort();
            int version = h.readUnsignedByte();
            int opcode = h.readUnsignedByte();
            long requestId = h.readLong();
            if (magic != 0x564C) {
                return new Expected(frames, ErrorCode.BAD_FRAME);
            }
            if (version != 1) {
                return new Expected(frames, ErrorCode.UNSUPPORTED_VERSION);
            }
            long total = length + 4;
            if (total < 16 || total > CAP) {
                return new Expected(frames, ErrorCode.BAD_FRAME);
            }
            if (s.length - at < total) {
                break;
            }
            frames.add(new Decoded(opcode, requestId, Arrays.copyOfRange(s, at + 16, at + (int) total)));
            at += (int) total;
        }
        return new Expected(frames, null);
    }

    /** Runs the body decoder for the frame's opcode: it may refuse, but only with a non-fatal ProtocolException. */
    static void decodeBodyLeniently(Frame f) {
        ByteBuf body = f.body().duplicate();
        try {
            Opcode op = f.opcode();
            if (op == null) {
                return;
            }
            switch (op) {
                case HELLO -> Hello.decode(body);
                case HELLO_OK -> HelloOk.decode(body);
                case STATS -> Frames.requireEmpty(body, "STATS");
                case STATS_OK -> DonorStats.decode(body);
                case ALLOC_SLAB -> SlabAlloc.decode(body);
                case FREE_SLAB, ALLOC_SLAB_OK, FREE_SLAB_OK -> SlabRef.decode(body, op.name());
                case WRITE_PAGES, READ_PAGES_OK -> {
                    PageBatch batch = new PageBatch().wrap(body, op.name());
                    for (int i = 0; i < batch.count(); i++) {
                        batch.pageIndex(i);
                        batch.version(i);
                        batch.checksumValid(i);
                    }
                }
                case READ_PAGES -> {
                    PageIndexList list = new PageIndexList().wrap(body);
                    for (int i = 0; i < list.count(); i++) {
                        assertThat(list.pageIndex(i)).isBetween(0L, 0xFFFF_FFFFL);
                    }
                }
                case HEARTBEAT, HEARTBEAT_OK -> Heartbeat.decode(body);
                case WRITE_PAGES_OK -> PagesAck.decode(body);
                case LIST_SLABS -> Frames.requireEmpty(body, "LIST_SLABS");
                case LIST_SLABS_OK -> SlabList.decode(body);
                case READ_INDEX -> IndexRequest.decode(body);
                case READ_INDEX_OK -> PageIndex.decode(body);
                case AUTH -> AuthProof.decode(body);
                case AUTH_OK -> Frames.requireEmpty(body, "AUTH_OK");
                case CLIENT_SHARES -> Frames.requireEmpty(body, "CLIENT_SHARES");
                case CLIENT_SHARES_OK -> ClientShares.decode(body);
                case REGISTER_SLAB -> SlabRef.decode(body, "REGISTER_SLAB");
                case REGISTER_SLAB_OK -> RemoteSlab.decode(body);
                case EVICT -> EvictRequest.decode(body);
                case EVICT_OK -> EvictReply.decode(body);
                case ERROR -> ErrorReply.decode(body);
                default -> fail("unhandled opcode " + op);
            }
        } catch (ProtocolException e) {
            assertThat(e.fatal()).as("body errors are never fatal: %s", e.getMessage()).isFalse();
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
        }
    }

    // --- valid frames ---------------------------------------------------------------------------------------

    static byte[] validFrame(Opcode op, Random r) {
        long id = r.nextLong();
        UnpooledByteBufAllocator alloc = UnpooledByteBufAllocator.DEFAULT;
        ByteBuf out = switch (op) {
            case HELLO -> Frames.encode(alloc, op, id, new Hello(1, "client-\u00e9-" + r.nextInt(1000)));
            case HELLO_OK -> Frames.encode(alloc, op, id, new HelloOk(r.nextLong(), 4096, CAP, 1 << 30,
                    r.nextBoolean() ? null : new AuthChallenge(randomBytes(r, AuthProof.BYTES),
                            randomBytes(r, AuthProof.BYTES))));
            case AUTH -> Frames.encode(alloc, op, id, new AuthProof(randomBytes(r, AuthProof.BYTES)));
            case AUTH_OK, CLIENT_SHARES -> Frames.encodeEmpty(alloc, op, id);
            case CLIENT_SHARES_OK -> Frames.encode(alloc, op, id, ClientShares.largestOf(List.of(
                    new ClientShares.Share("client-\u00e9-" + r.nextInt(1000), r.nextInt(64), r.nextLong() >>> 1),
                    new ClientShares.Share("other", 1, 1L << 26))));
            case STATS -> {
                ByteBuf b = Unpooled.buffer();
                Frames.finish(b, Frames.begin(b, op, id));
                yield b;
            }
            case STATS_OK -> Frames.encode(alloc, op, id, new DonorStats(r.nextLong(), r.nextLong(), r.nextLong(),
                    r.nextLong(), r.nextLong(), r.nextInt(), r.nextInt(), r.nextLong(), r.nextLong(), r.nextLong(),
                    r.nextLong(), r.nextLong(), r.nextLong()));
            case EVICT -> Frames.encode(alloc, op, id | FrameHeader.DONOR_REQUEST_BIT,
                    new EvictRequest(r.nextInt(10), 1 + r.nextInt(60_000)));
            case EVICT_OK -> Frames.encode(alloc, op, id | FrameHeader.DONOR_REQUEST_BIT, r.nextBoolean()
                    ? EvictReply.accepted(r.nextInt(10)) : new EvictReply(r.nextInt(10), ErrorCode.EVICT_NOWHERE));
            case ALLOC_SLAB -> Frames.encode(alloc, op, id, new SlabAlloc(r.nextInt(10), 4096L * (1 + r.nextInt(8))));
            case FREE_SLAB, ALLOC_SLAB_OK, FREE_SLAB_OK, REGISTER_SLAB ->
                    Frames.encode(alloc, op, id, new SlabRef(r.nextInt(10)));
            case REGISTER_SLAB_OK -> Frames.encode(alloc, op, id, new RemoteSlab(r.nextInt(10), r.nextLong(),
                    r.nextInt(), 1 + r.nextInt(1 << 18)));
            case WRITE_PAGES, READ_PAGES_OK -> {
                int pages = 1 + r.nextInt(2);
                ByteBuf b = Unpooled.buffer(PageBatchEncoder.frameSize(pages));
                PageBatchEncoder enc = new PageBatchEncoder().begin(b, op, id, r.nextInt(10));
                byte[] page = new byte[FrameHeader.PAGE_SIZE];
                for (int i = 0; i < pages; i++) {
                    r.nextBytes(page);
                    enc.add(r.nextInt(16), 1 + r.nextInt(100), PageChecksum.crc32c(page, 0), page, 0);
                }
                enc.finish();
                yield b;
            }
            case READ_PAGES -> {
                ByteBuf b = Unpooled.buffer();
                long[] idx = r.longs(1 + r.nextInt(20), 0, 16).toArray();
                PageIndexList.encode(b, id, r.nextInt(10), idx, idx.length);
                yield b;
            }
            case HEARTBEAT, HEARTBEAT_OK -> Frames.encode(alloc, op, id, new Heartbeat(r.nextLong()));
            case WRITE_PAGES_OK -> Frames.encode(alloc, op, id, new PagesAck(r.nextInt(10), 1 + r.nextInt(3)));
            case LIST_SLABS -> {
                ByteBuf b = Unpooled.buffer();
                Frames.finish(b, Frames.begin(b, op, id));
                yield b;
            }
            case LIST_SLABS_OK -> Frames.encode(alloc, op, id, new SlabList(List.of(
                    new SlabList.Entry(r.nextInt(10), 4096), new SlabList.Entry(r.nextInt(10), 8192))));
            case READ_INDEX -> Frames.encode(alloc, op, id, new IndexRequest(r.nextInt(10), r.nextInt(8),
                    1 + r.nextInt(8)));
            case READ_INDEX_OK -> Frames.encode(alloc, op, id, new PageIndex(r.nextInt(10), r.nextInt(8),
                    new long[] {1, 2}, new int[] {3, 4}));
            case ERROR -> Frames.encode(alloc, op, id, new ErrorReply(
                    ErrorCode.values()[r.nextInt(ErrorCode.values().length)], "nope \u2603 " + r.nextInt()));
        };
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        return bytes;
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @Provide
    Arbitrary<List<Opcode>> frameKinds() {
        return Arbitraries.of(KINDS).list();
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Mutation> flip = Combinators.combine(Arbitraries.integers(), Arbitraries.integers().between(1, 255))
                .as(Flip::new);
        Arbitrary<Mutation> truncate = Arbitraries.integers().between(0, 999).map(Truncate::new);
        Arbitrary<Mutation> append = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300)
                .map(Append::new);
        Arbitrary<Integer> lengths = Arbitraries.oneOf(Arbitraries.integers(),
                Arbitraries.integers().between(-2, 40),
                Arbitraries.integers().between(CAP - 40, CAP + 8),
                Arbitraries.integers().between(0, 9000));
        Arbitrary<Mutation> setLength = Combinators.combine(Arbitraries.integers().between(0, 2), lengths)
                .as(SetLength::new);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, flip),
                net.jqwik.api.Tuple.of(2, truncate),
                net.jqwik.api.Tuple.of(2, append),
                net.jqwik.api.Tuple.of(3, setLength)).list();
    }
}
