package dev.valet.donor.server;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.LimitsConfig;
import dev.valet.common.protocol.AuthChallenge;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageIndexList;
import dev.valet.common.protocol.PagesAck;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabRef;
import dev.valet.common.testing.FuzzTries;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.server.EmbeddedDonorClient.Page;
import dev.valet.donor.server.EmbeddedDonorClient.Reply;
import dev.valet.donor.store.Slab;
import dev.valet.donor.store.SlabStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;
import net.jqwik.api.statistics.Statistics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile input into an in-process donor: random bytes, and valid requests (after a valid HELLO) mutated at
 * random. Whatever comes in, nothing escapes the pipeline, every reply is a well-formed frame that answers one
 * request in order (its success reply, consistent with the request, or an ERROR), a broken header gets one last
 * ERROR and a closed connection, the lending limit holds, and a slab a good client wrote before stays intact.
 */
@AddLifecycleHook(FuzzTries.class)
class DonorFuzzProperties {
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final int MAX_FRAME = 64 * 1024;
    private static final long LIMIT = 1 << 20;
    private static final long MAX_SLAB = 256 * 1024;
    private static final int GOOD_PAGES = 8;

    private static final ClusterSecret SECRET;
    private static final ClusterSecret OTHER_SECRET;

    static {
        try {
            Path dir = Files.createTempDirectory("valet-fuzz-secret");
            SECRET = ClusterSecret.generate(dir.resolve("cluster.secret"));
            OTHER_SECRET = ClusterSecret.generate(dir.resolve("other.secret"));
            dir.toFile().deleteOnExit();
            SECRET.file().toFile().deleteOnExit();
            OTHER_SECRET.file().toFile().deleteOnExit();
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private SlabStore store;
    private Donor donor;
    private HelloOk helloOk;
    private EmbeddedDonorClient good;
    private final List<Page> goodPages = new ArrayList<>();
    private int connections;

    @BeforeProperty
    void startDonorWithAGoodClient() {
        store = new SlabStore(LIMIT, MAX_SLAB, false);
        helloOk = new HelloOk(77, PAGE, MAX_FRAME, MAX_SLAB);
        donor = new Donor(store, new FreeMemoryTrend(0.7, 8), helloOk, EmbeddedDonorClient.NO_EVICTION);
        good = new EmbeddedDonorClient(donor);
        assertThat(good.hello("good").opcode()).isEqualTo(Opcode.HELLO_OK);
        assertThat(good.alloc(1, GOOD_PAGES * PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        for (int i = 0; i < GOOD_PAGES; i++) {
            goodPages.add(Page.filled(i, 10 + i, 1000 + i));
        }
        assertThat(good.write(1, goodPages.toArray(Page[]::new)).opcode()).isEqualTo(Opcode.WRITE_PAGES_OK);
    }

    @AfterProperty
    void goodSlabSurvivedEverything() {
        try {
            assertGoodSlabIntact();
            assertThat(good.channel.isOpen()).isTrue();
        } finally {
            good.close();
            store.close();
        }
    }

    private void assertGoodSlabIntact() {
        Reply read = good.read(1, LongStream.range(0, GOOD_PAGES).toArray());
        assertThat(read.pages()).containsExactlyElementsOf(goodPages);
    }

    // --- properties -----------------------------------------------------------------------------------------

    @Property(tries = 300)
    void randomBytes(@ForAll @IntRange(max = 6_000) int size, @ForAll boolean helloFirst,
            @ForAll boolean plausibleHeader, @ForAll long seed) {
        Random random = new Random(seed);
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        if (plausibleHeader && bytes.length >= FrameHeader.SIZE) {
            // A good header around a random body, under a random request opcode (or one past them), so the
            // handler's body decoding, not just the frame decoder, sees the garbage.
            Unpooled.wrappedBuffer(bytes).setInt(FrameHeader.LENGTH_OFFSET, bytes.length - 4);
            bytes[FrameHeader.MAGIC_OFFSET] = (byte) (FrameHeader.MAGIC >> 8);
            bytes[FrameHeader.MAGIC_OFFSET + 1] = (byte) FrameHeader.MAGIC;
            bytes[FrameHeader.VERSION_OFFSET] = FrameHeader.VERSION;
            bytes[FrameHeader.OPCODE_OFFSET] = (byte) (1 + Math.floorMod(bytes[FrameHeader.OPCODE_OFFSET], 8));
        }
        byte[] stream = helloFirst ? concat(helloFrame(), bytes) : bytes;
        fuzz(stream, random);
    }

    @Property(tries = 300)
    void mutatedRequestsAfterAValidHello(
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 0, max = 7) Integer> kinds,
            @ForAll("mutations") @Size(max = 3) List<long[]> mutations, @ForAll long seed) {
        Random random = new Random(seed);
        byte[] prefix = concat(helloFrame(), frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT,
                Opcode.ALLOC_SLAB, 2, new SlabAlloc(1, 16 * PAGE))));
        List<byte[]> frames = new ArrayList<>();
        for (int kind : kinds) {
            frames.add(request(kind, random));
        }
        byte[] tail = concat(frames.toArray(byte[][]::new));
        for (long[] m : mutations) {
            tail = mutate(tail, m);
        }
        fuzz(concat(prefix, tail), random);

        // The fuzz must reach every success path and the main refusals, or it proves little.
        Statistics.label("successes").coverage(c -> {
            for (Opcode op : List.of(Opcode.HELLO, Opcode.STATS, Opcode.ALLOC_SLAB, Opcode.FREE_SLAB,
                    Opcode.WRITE_PAGES, Opcode.READ_PAGES, Opcode.HEARTBEAT)) {
                c.check(op).count(n -> n >= 1);
            }
        });
        Statistics.label("errors").coverage(c -> {
            for (ErrorCode code : List.of(ErrorCode.BAD_FRAME, ErrorCode.BAD_CHECKSUM, ErrorCode.NO_SUCH_SLAB,
                    ErrorCode.PAGE_OUT_OF_RANGE)) {
                c.check(code).count(n -> n >= 1);
            }
        });
    }

    /**
     * The handshake of a donor with a cluster secret, attacked: a HELLO (maybe mutated), then an AUTH that is
     * right, made with another secret, the donor's own proof sent back, random, or missing, then requests, the
     * whole tail maybe mutated. Until AUTH_OK the donor sends nothing but a HELLO_OK whose proof verifies, and
     * whatever goes wrong closes the connection without a word; nobody unauthenticated gets a slab; the good
     * client's slab (same store) survives.
     */
    @Property(tries = 200)
    void handshakeUnderAttack(@ForAll boolean mutateHello, @ForAll @IntRange(max = 4) int authKind,
            @ForAll @Size(max = 3) List<@IntRange(min = 0, max = 7) Integer> kinds,
            @ForAll("mutations") @Size(max = 3) List<long[]> mutations, @ForAll long seed) throws IOException {
        Random random = new Random(seed);
        Donor secured = new Donor(store, new FreeMemoryTrend(0.7, 8), helloOk, SECRET, LimitsConfig.DEFAULTS);
        EmbeddedDonorClient attacker = new EmbeddedDonorClient(secured);
        String identity = "attacker-" + connections++;
        try {
            byte[] clientNonce = ClusterSecret.freshNonce();
            byte[] hello = frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HELLO, 1,
                    new Hello(1, identity, clientNonce)));
            if (mutateHello) {
                for (long[] m : mutations) {
                    hello = mutate(hello, m);
                }
            }
            List<Reply> first = attacker.sendRaw(Unpooled.wrappedBuffer(hello));
            assertThat(first).as("at most the HELLO_OK before AUTH").hasSizeLessThanOrEqualTo(1);
            boolean authenticated = false;
            if (first.size() == 1) {
                Reply ok = first.get(0);
                assertThat(ok.opcode()).as("no ERROR frame before authentication").isEqualTo(Opcode.HELLO_OK);
                AuthChallenge challenge = ok.decode(HelloOk::decode).auth();
                // What the donor read: the HELLO as the frame's own length cuts it.
                Hello heard = Hello.decode(Unpooled.wrappedBuffer(parse(hello).frames().get(0).body()));
                String claimed = heard.identity();
                byte[] nonce = heard.clientNonce();
                assertThat(ClusterSecret.matches(SECRET.donorProof(claimed, nonce, challenge.donorNonce()),
                        challenge.donorProof())).as("the donor proves the secret").isTrue();
                byte[] proof = switch (authKind) {
                    case 0 -> SECRET.clientProof(claimed, nonce, challenge.donorNonce());
                    case 1 -> OTHER_SECRET.clientProof(claimed, nonce, challenge.donorNonce());
                    case 2 -> challenge.donorProof();
                    case 3 -> ClusterSecret.freshNonce();
                    default -> null;
                };
                byte[] tail = new byte[0];
                for (int kind : kinds) {
                    tail = concat(tail, request(kind, random));
                }
                byte[] stream = proof == null ? tail : concat(frameBytes(Frames.encode(
                        UnpooledByteBufAllocator.DEFAULT, Opcode.AUTH, 2, new AuthProof(proof))), tail);
                if (!mutateHello) {
                    for (long[] m : mutations) {
                        stream = mutate(stream, m);
                    }
                }
                List<Reply> rest = attacker.sendRaw(Unpooled.wrappedBuffer(stream));
                authenticated = !rest.isEmpty() && rest.get(0).opcode() == Opcode.AUTH_OK;
                if (!authenticated) {
                    assertThat(rest).as("nothing but AUTH_OK answers an AUTH").isEmpty();
                    Expected cut = parse(stream);
                    if (!cut.frames().isEmpty() || cut.fatal() != null) {
                        assertThat(attacker.channel.isOpen()).as("a failed handshake closes").isFalse();
                    }
                } else {
                    assertThat(authKind).as("only the right proof is accepted").isZero();
                    assertThat(rest.get(0).requestId()).isEqualTo(Unpooled.wrappedBuffer(stream).getLong(8));
                }
                Statistics.label("handshake").collect(authenticated ? "authenticated" : "refused");
            } else {
                Statistics.label("handshake").collect("no HELLO_OK");
            }
            if (!authenticated) {
                assertThat(store.slabsOf(identity)).isEmpty();
                assertThat(secured.clientCount()).isZero();
            }
            assertThat(store.lentBytes()).isBetween((long) GOOD_PAGES * PAGE, LIMIT);
        } finally {
            attacker.close();
            for (Slab slab : store.slabs()) {
                if (!slab.key().owner().equals("good")) {
                    store.free(slab.key().owner(), slab.key().slabId());
                }
            }
        }
        Statistics.label("handshake").coverage(c -> {
            c.check("authenticated").count(n -> n >= 1);
            c.check("refused").count(n -> n >= 1);
        });
    }

    // --- the oracle -----------------------------------------------------------------------------------------

    private void fuzz(byte[] stream, Random chunks) {
        EmbeddedDonorClient fuzzer = new EmbeddedDonorClient(donor);
        connections++;
        try {
            List<Reply> replies = new ArrayList<>();
            int from = 0;
            while (from < stream.length && fuzzer.channel.isOpen()) {
                int n = 1 + chunks.nextInt(Math.min(stream.length - from, 4096));
                // sendRaw checks that no exception escaped the pipeline.
                replies.addAll(fuzzer.sendRaw(Unpooled.copiedBuffer(stream, from, n)));
                from += n;
                assertThat(store.lentBytes()).isBetween(0L, LIMIT);
            }
            replies.addAll(fuzzer.drain());
            Expected expected = parse(stream);
            Statistics.label("outcome").collect(expected.fatal == null ? "framed" : "fatal " + expected.fatal);
            Statistics.label("requests").collect(Math.min(expected.frames.size(), 4));

            int answered = expected.frames.size();
            assertThat(replies).as("one reply per frame%s", expected.fatal != null ? " plus the fatal error" : "")
                    .hasSize(answered + (expected.fatal != null ? 1 : 0));
            boolean helloDone = false;
            for (int i = 0; i < answered; i++) {
                helloDone |= checkReply(expected.frames.get(i), replies.get(i), helloDone);
            }
            if (expected.fatal != null) {
                Reply last = replies.get(answered);
                assertThat(last.requestId()).isZero();
                assertThat(last.error().code()).isEqualTo(expected.fatal);
                assertThat(fuzzer.channel.isOpen()).as("closed after a broken header").isFalse();
            } else {
                assertThat(fuzzer.channel.isOpen()).as("open while every header is good").isTrue();
            }
        } finally {
            fuzzer.close();
            for (Slab slab : store.slabs()) {
                if (!slab.key().owner().equals("good")) {
                    store.free(slab.key().owner(), slab.key().slabId());
                }
            }
        }
        assertThat(store.lentBytes()).isEqualTo(GOOD_PAGES * PAGE);
        if (connections % 25 == 0) {
            assertGoodSlabIntact();
        }
    }

    /** Checks one reply against its request; returns whether it completed a HELLO. */
    private boolean checkReply(RawFrame request, Reply reply, boolean helloDone) {
        assertThat(reply.requestId()).as("reply to %s echoes its id", request).isEqualTo(request.requestId);
        Opcode op = Opcode.fromCode(request.opcode);
        if (reply.opcode() == Opcode.ERROR) {
            ErrorReply error = reply.error();
            Statistics.label("errors").collect(error.code());
            if (op == null || op.isReply() || op == Opcode.EVICT) {
                // EVICT is a request only donors send; replies are answered only when they answer our EVICT.
                assertThat(error.code()).isEqualTo(ErrorCode.UNSUPPORTED_OPCODE);
            } else if (!helloDone && op != Opcode.HELLO) {
                assertThat(error.code()).isEqualTo(ErrorCode.HELLO_REQUIRED);
            } else {
                assertThat(error.code()).isNotIn(ErrorCode.HELLO_REQUIRED, ErrorCode.UNSUPPORTED_OPCODE);
            }
            return false;
        }
        assertThat(op).as("only requests succeed").isNotNull();
        assertThat(op.isReply()).isFalse();
        assertThat(reply.opcode()).isEqualTo(op.reply());
        assertThat(helloDone || op == Opcode.HELLO).as("nothing but HELLO succeeds before HELLO").isTrue();
        Statistics.label("successes").collect(op);
        ByteBuf body = Unpooled.wrappedBuffer(request.body);
        switch (op) {
            case HELLO -> {
                assertThat(helloDone).as("a second HELLO never succeeds").isFalse();
                Hello.decode(body);
                assertThat(reply.decode(HelloOk::decode)).isEqualTo(helloOk);
                return true;
            }
            case STATS -> {
                DonorStats stats = reply.decode(DonorStats::decode);
                assertThat(stats.lentBytes()).isBetween(0L, LIMIT);
                assertThat(stats.lendLimitBytes()).isEqualTo(LIMIT);
            }
            case ALLOC_SLAB -> {
                SlabAlloc alloc = SlabAlloc.decode(body);
                assertThat(alloc.slabBytes()).isPositive().isLessThanOrEqualTo(MAX_SLAB);
                assertThat(alloc.slabBytes() % PAGE).isZero();
                assertThat(reply.<SlabRef>decode(b -> SlabRef.decode(b, "ALLOC_SLAB_OK")).slabId())
                        .isEqualTo(alloc.slabId());
            }
            case FREE_SLAB -> assertThat(reply.<SlabRef>decode(b -> SlabRef.decode(b, "FREE_SLAB_OK")).slabId())
                    .isEqualTo(SlabRef.decode(body, "FREE_SLAB").slabId());
            case WRITE_PAGES -> {
                PageBatch batch = new PageBatch().wrap(body, "WRITE_PAGES");
                for (int i = 0; i < batch.count(); i++) {
                    assertThat(batch.checksumValid(i)).as("a stored page had a good CRC").isTrue();
                    assertThat(batch.version(i)).isNotZero();
                }
                assertThat(reply.decode(PagesAck::decode)).isEqualTo(new PagesAck(batch.slabId(), batch.count()));
            }
            case READ_PAGES -> {
                PageIndexList wanted = new PageIndexList().wrap(body);
                List<Page> pages = reply.pages();
                assertThat(reply.slabIdOfPages()).isEqualTo(wanted.slabId());
                assertThat(pages).hasSize(wanted.count());
                for (int i = 0; i < pages.size(); i++) {
                    assertThat(pages.get(i).index()).isEqualTo(wanted.pageIndex(i));
                }
            }
            case HEARTBEAT -> assertThat(reply.decode(Heartbeat::decode)).isEqualTo(Heartbeat.decode(body));
            case LIST_SLABS -> reply.decode(dev.valet.common.protocol.SlabList::decode);
            default -> throw new AssertionError("success reply to " + op);
        }
        return false;
    }

    record RawFrame(int opcode, long requestId, byte[] body) {
        @Override
        public String toString() {
            return "frame[0x" + Integer.toHexString(opcode) + " #" + requestId + ", " + body.length + " bytes]";
        }
    }

    record Expected(List<RawFrame> frames, ErrorCode fatal) {
    }

    /** Cuts the stream the way the header layout says, independent of the decoder under test. */
    private static Expected parse(byte[] s) {
        List<RawFrame> frames = new ArrayList<>();
        int at = 0;
        while (s.length - at >= FrameHeader.SIZE) {
            ByteBuf h = Unpooled.wrappedBuffer(s, at, FrameHeader.SIZE);
            long total = h.readUnsignedInt() + 4;
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
            if (total < 16 || total > MAX_FRAME) {
                return new Expected(frames, ErrorCode.BAD_FRAME);
            }
            if (s.length - at < total) {
                break;
            }
            frames.add(new RawFrame(opcode, requestId, Arrays.copyOfRange(s, at + 16, at + (int) total)));
            at += (int) total;
        }
        return new Expected(frames, null);
    }

    // --- inputs ---------------------------------------------------------------------------------------------

    private byte[] helloFrame() {
        return frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HELLO, 1,
                new Hello(1, "fuzzer-" + connections)));
    }

    /** A valid request: 0 WRITE, 1 READ, 2 ALLOC, 3 FREE, 4 STATS, 5 HEARTBEAT, 6 HELLO, 7 WRITE of another slab. */
    private static byte[] request(int kind, Random r) {
        long id = 100 + r.nextInt(1000);
        return switch (kind) {
            case 0, 7 -> {
                Page[] pages = new Page[1 + r.nextInt(3)];
                for (int i = 0; i < pages.length; i++) {
                    pages[i] = Page.filled(r.nextInt(kind == 0 ? 16 : 20), 1 + r.nextInt(5), r.nextInt());
                }
                yield frameBytes(EmbeddedDonorClient.writeFrame(id, kind == 0 ? 1 : 2, pages));
            }
            case 1 -> frameBytes(EmbeddedDonorClient.readFrame(id, r.nextInt(4) == 0 ? 2 : 1,
                    r.longs(1 + r.nextInt(r.nextBoolean() ? 4 : 20), 0, r.nextInt(4) == 0 ? 18 : 16).toArray()));
            case 2 -> frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.ALLOC_SLAB, id,
                    new SlabAlloc(r.nextInt(4), PAGE * (1L + r.nextInt(64)))));
            case 3 -> frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.FREE_SLAB, id,
                    new SlabRef(r.nextInt(3))));
            case 4 -> {
                ByteBuf b = Unpooled.buffer();
                Frames.finish(b, Frames.begin(b, Opcode.STATS, id));
                yield frameBytes(b);
            }
            case 5 -> frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HEARTBEAT, id,
                    new Heartbeat(r.nextLong())));
            case 6 -> frameBytes(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.HELLO, id,
                    new Hello(1, "good")));
            default -> throw new IllegalArgumentException("kind " + kind);
        };
    }

    /**
     * A mutation as {@code [kind, position, value]}: 0 flip bits, 1 truncate, 2 append garbage, 3 overwrite a
     * 4-byte word, 4 overwrite an 8-byte word. Positions are taken modulo the length; words land anywhere, so
     * they hit length fields, counts, page indexes, versions and slab ids as often as data.
     */
    private static byte[] mutate(byte[] s, long[] m) {
        if (s.length == 0) {
            return s;
        }
        int at = (int) Math.floorMod(m[1], (long) s.length);
        long v = m[2];
        return switch ((int) m[0]) {
            case 0 -> {
                s[at] ^= (byte) (v == 0 ? 1 : v);
                yield s;
            }
            case 1 -> Arrays.copyOf(s, at);
            case 2 -> {
                byte[] garbage = new byte[1 + (int) Math.floorMod(v, 200L)];
                new Random(v).nextBytes(garbage);
                yield concat(s, garbage);
            }
            case 3 -> {
                if (s.length >= 4) {
                    Unpooled.wrappedBuffer(s).setInt(Math.min(at, s.length - 4), (int) v);
                }
                yield s;
            }
            default -> {
                if (s.length >= 8) {
                    Unpooled.wrappedBuffer(s).setLong(Math.min(at, s.length - 8), v);
                }
                yield s;
            }
        };
    }

    @Provide
    Arbitrary<List<long[]>> mutations() {
        Arbitrary<Long> values = Arbitraries.oneOf(Arbitraries.longs(),
                Arbitraries.of(0L, 1L, -1L, 0x7FFF_FFFFL, 0xFFFF_FFFFL, 12L, 11L, 16L, 17L, (long) MAX_FRAME,
                        MAX_FRAME - 4L, MAX_FRAME - 3L, 4096L, 4095L, 0x564C_0100L),
                Arbitraries.longs().between(0, 40));
        return net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.longs(), values)
                .as((kind, position, value) -> new long[] {kind, position, value}).list();
    }

    private static byte[] frameBytes(ByteBuf b) {
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
