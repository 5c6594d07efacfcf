package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Every control message survives the whole wire path: {@link Frames#encode} → bytes → {@link FrameDecoder} on a
 * netty pipeline → exactly one {@link Frame} with the same opcode and request id → the record's own decode.
 */
class ControlMessageCodecTest {
    private static final int TRIES = 200;

    @Property(tries = TRIES)
    void helloRoundTrips(@ForAll @IntRange(min = 0, max = 255) int version, @ForAll("identities") String identity,
            @ForAll long requestId) {
        Hello hello = new Hello(version, identity);
        assertThat(hello.encodedSize())
                .isEqualTo(2 + identity.getBytes(StandardCharsets.UTF_8).length + AuthProof.BYTES);
        assertThat(roundTrip(Opcode.HELLO, requestId, hello, Hello::decode)).isEqualTo(hello);
    }

    @Property(tries = TRIES)
    void helloOkRoundTrips(@ForAll long instanceId, @ForAll int pageSize, @ForAll int maxFrame,
            @ForAll long maxSlab, @ForAll long requestId) {
        HelloOk ok = new HelloOk(instanceId, pageSize, maxFrame, maxSlab);
        assertThat(roundTrip(Opcode.HELLO_OK, requestId, ok, HelloOk::decode)).isEqualTo(ok);
    }

    @Property(tries = TRIES)
    void donorStatsRoundTrips(@ForAll long limit, @ForAll long lent, @ForAll long offered, @ForAll long free,
            @ForAll long gradient, @ForAll int slabs, @ForAll int clients, @ForAll long ops,
            @ForAll long requestId, @ForAll long requested, @ForAll long completed, @ForAll long timedOut,
            @ForAll long declined, @ForAll long unused) {
        DonorStats stats = new DonorStats(limit, lent, offered, free, gradient, slabs, clients, ops, requested,
                completed, timedOut, declined, unused);
        assertThat(roundTrip(Opcode.STATS_OK, requestId, stats, DonorStats::decode)).isEqualTo(stats);
    }

    @Property(tries = TRIES)
    void clientSharesRoundTripTheLargestThirtyTwo(@ForAll("holdings") List<ClientShares.Share> all,
            @ForAll long requestId) {
        ClientShares shares = ClientShares.largestOf(all);

        ClientShares decoded = roundTrip(Opcode.CLIENT_SHARES_OK, requestId, shares, ClientShares::decode);

        assertThat(decoded).isEqualTo(shares);
        assertThat(decoded.identityCount()).isEqualTo(all.size());
        assertThat(decoded.shares()).hasSize(Math.min(all.size(), ClientShares.MAX_SHARES));
        assertThat(decoded.shares()).isSortedAccordingTo((a, b) -> Long.compare(b.bytes(), a.bytes()));
        long smallestListed = decoded.shares().isEmpty() ? Long.MAX_VALUE
                : decoded.shares().get(decoded.shares().size() - 1).bytes();
        assertThat(all).as("every identity left out holds no more than the smallest listed")
                .filteredOn(s -> !decoded.shares().contains(s)).allMatch(s -> s.bytes() <= smallestListed);
        assertThat(shares.encodedSize()).isLessThanOrEqualTo(ClientShares.MAX_ENCODED_SIZE);
    }

    @Example
    void malformedClientSharesAreRefusedWithTheirProblemNamed() {
        ByteBuf tooMany = Unpooled.buffer().writeInt(40).writeByte(33);
        assertThatThrownBy(() -> ClientShares.decode(tooMany)).isInstanceOf(ProtocolException.class)
                .hasMessage("CLIENT_SHARES_OK lists 33 shares of 40 identities (at most 32, and no more than the"
                        + " identities)");
        ByteBuf moreThanHeld = Unpooled.buffer().writeInt(1).writeByte(2);
        assertThatThrownBy(() -> ClientShares.decode(moreThanHeld)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("lists 2 shares of 1 identities");
        ByteBuf cut = Unpooled.buffer().writeInt(1).writeByte(1).writeByte(3).writeBytes("abc".getBytes(
                StandardCharsets.UTF_8)).writeInt(1);
        assertThatThrownBy(() -> ClientShares.decode(cut)).isInstanceOf(ProtocolException.class)
                .hasMessage("CLIENT_SHARES_OK share 0: identity of 3 bytes with 7 bytes left (needs 1..255 and 12"
                        + " more)");
        ByteBuf trailing = Unpooled.buffer().writeInt(0).writeByte(0).writeByte(9);
        assertThatThrownBy(() -> ClientShares.decode(trailing)).isInstanceOf(ProtocolException.class)
                .hasMessage("CLIENT_SHARES_OK after its 0 shares body is 1 bytes (expected 0)");
        ByteBuf negative = Unpooled.buffer().writeInt(1).writeByte(1).writeByte(1).writeByte('a').writeInt(1)
                .writeLong(-1);
        assertThatThrownBy(() -> ClientShares.decode(negative)).isInstanceOf(ProtocolException.class)
                .hasMessage("CLIENT_SHARES_OK share of 'a': 1 slabs, -1 bytes");
        assertThat(((ProtocolException) catchThrowable(() -> ClientShares.decode(Unpooled.buffer()))).fatal())
                .as("a bad body is not fatal").isFalse();
    }

    @Property(tries = TRIES)
    void slabListRoundTrips(@ForAll @Size(max = 40) List<@LongRange(min = 0) Long> ids, @ForAll long requestId) {
        List<SlabList.Entry> entries = new ArrayList<>();
        for (long id : ids) {
            entries.add(new SlabList.Entry(id, (id % 1000 + 1) * 4096));
        }
        SlabList list = new SlabList(entries);
        assertThat(roundTrip(Opcode.LIST_SLABS_OK, requestId, list, SlabList::decode)).isEqualTo(list);
    }

    @Property(tries = TRIES)
    void indexRequestAndReplyRoundTrip(@ForAll long slabId, @ForAll @LongRange(min = 0, max = 0xFFFF_FFFFL) long first,
            @ForAll @Size(max = 64) List<Long> versions, @ForAll long requestId) {
        IndexRequest request = new IndexRequest(slabId, first, versions.size());
        assertThat(roundTrip(Opcode.READ_INDEX, requestId, request, IndexRequest::decode)).isEqualTo(request);
        long[] v = versions.stream().mapToLong(Long::longValue).toArray();
        int[] crcs = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            crcs[i] = (int) (v[i] * 31);
        }
        PageIndex index = new PageIndex(slabId, first, v, crcs);
        assertThat(roundTrip(Opcode.READ_INDEX_OK, requestId, index, PageIndex::decode)).isEqualTo(index);
    }

    @Property(tries = TRIES)
    void evictAndItsReplyRoundTrip(@ForAll long slabId, @ForAll @LongRange(min = 1, max = 0xFFFF_FFFFL) long deadline,
            @ForAll long requestId, @ForAll("evictOutcomes") ErrorCode declined) {
        long donorId = requestId | FrameHeader.DONOR_REQUEST_BIT;
        EvictRequest evict = new EvictRequest(slabId, deadline);
        assertThat(roundTrip(Opcode.EVICT, donorId, evict, EvictRequest::decode)).isEqualTo(evict);
        EvictReply reply = declined == ErrorCode.INTERNAL ? EvictReply.accepted(slabId)
                : new EvictReply(slabId, declined);
        assertThat(roundTrip(Opcode.EVICT_OK, donorId, reply, EvictReply::decode)).isEqualTo(reply);
    }

    @Example
    void malformedEvictBodiesAreRefusedWithTheirProblemNamed() {
        ByteBuf shortBody = Unpooled.buffer().writeLong(3);
        assertThatThrownBy(() -> EvictRequest.decode(shortBody)).isInstanceOf(ProtocolException.class)
                .hasMessage("EVICT body is 8 bytes (expected 12)");
        ByteBuf zeroDeadline = Unpooled.buffer().writeLong(3).writeInt(0);
        assertThatThrownBy(() -> EvictRequest.decode(zeroDeadline)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("EVICT of slab 3 has deadline 0 ms");
        ByteBuf longReply = Unpooled.buffer().writeLong(3).writeShort(0).writeByte(1);
        assertThatThrownBy(() -> EvictReply.decode(longReply)).isInstanceOf(ProtocolException.class)
                .hasMessage("EVICT_OK body is 11 bytes (expected 10)");
        ByteBuf unknownReason = Unpooled.buffer().writeLong(3).writeShort(999);
        assertThatThrownBy(() -> EvictReply.decode(unknownReason)).isInstanceOf(ProtocolException.class)
                .hasMessage("EVICT_OK of slab 3 with unknown reason 999");
        assertThat(((ProtocolException) catchThrowable(() -> EvictRequest.decode(Unpooled.buffer()))).fatal())
                .as("a bad body is not fatal").isFalse();
    }

    @Property(tries = TRIES)
    void slabAllocRoundTrips(@ForAll long slabId, @ForAll long slabBytes, @ForAll long requestId) {
        SlabAlloc alloc = new SlabAlloc(slabId, slabBytes);
        assertThat(roundTrip(Opcode.ALLOC_SLAB, requestId, alloc, SlabAlloc::decode)).isEqualTo(alloc);
    }

    @Property(tries = TRIES)
    void slabRefRoundTripsUnderEveryOpcodeThatCarriesIt(@ForAll long slabId, @ForAll long requestId,
            @ForAll("slabRefOpcodes") Opcode opcode) {
        SlabRef ref = new SlabRef(slabId);
        SlabRef decoded = roundTrip(opcode, requestId, ref, b -> SlabRef.decode(b, opcode.name()));
        assertThat(decoded).isEqualTo(ref);
    }

    @Property(tries = TRIES)
    void heartbeatRoundTripsBothWays(@ForAll long senderNanos, @ForAll long requestId,
            @ForAll("heartbeatOpcodes") Opcode opcode) {
        Heartbeat hb = new Heartbeat(senderNanos);
        assertThat(roundTrip(opcode, requestId, hb, Heartbeat::decode)).isEqualTo(hb);
    }

    @Property(tries = TRIES)
    void pagesAckRoundTrips(@ForAll long slabId, @ForAll int count, @ForAll long requestId) {
        PagesAck ack = new PagesAck(slabId, count);
        assertThat(roundTrip(Opcode.WRITE_PAGES_OK, requestId, ack, PagesAck::decode)).isEqualTo(ack);
    }

    @Property(tries = TRIES)
    void errorReplyWithinTheLimitRoundTripsExactly(@ForAll ErrorCode code, @ForAll("shortMessages") String message,
            @ForAll long requestId) {
        ErrorReply error = new ErrorReply(code, message);
        assertThat(roundTrip(Opcode.ERROR, requestId, error, ErrorReply::decode)).isEqualTo(error);
    }

    @Property(tries = TRIES)
    void errorReplyOverTheLimitIsCutOnACharacterBoundary(@ForAll ErrorCode code,
            @ForAll("longMessages") String message, @ForAll long requestId) {
        int fullBytes = message.getBytes(StandardCharsets.UTF_8).length;
        ErrorReply error = new ErrorReply(code, message);

        ErrorReply decoded = roundTrip(Opcode.ERROR, requestId, error, ErrorReply::decode);

        assertThat(decoded.code()).isEqualTo(code);
        int cutBytes = decoded.message().getBytes(StandardCharsets.UTF_8).length;
        assertThat(cutBytes).isEqualTo(error.encodedSize() - 4);
        if (fullBytes <= ErrorReply.MAX_MESSAGE_BYTES) {
            assertThat(decoded.message()).isEqualTo(message);
        } else {
            // At most one character (at most 4 UTF-8 bytes) lost beyond the limit, and only whole characters.
            assertThat(cutBytes).isBetween(ErrorReply.MAX_MESSAGE_BYTES - 3, ErrorReply.MAX_MESSAGE_BYTES);
            assertThat(message).startsWith(decoded.message());
            int nextCodePoint = message.codePointAt(decoded.message().length());
            assertThat(cutBytes + new String(Character.toChars(nextCodePoint)).getBytes(StandardCharsets.UTF_8).length)
                    .isGreaterThan(ErrorReply.MAX_MESSAGE_BYTES);
        }
    }

    @Example
    void errorReplyCutFallsBeforeAFourByteCharacterStraddlingTheLimit() {
        // 1022 ASCII bytes, then U+1F600 (4 bytes: 1022..1025) straddles the 1024-byte limit.
        String message = "x".repeat(1022) + "\uD83D\uDE00" + "tail";
        ErrorReply decoded = roundTrip(Opcode.ERROR, 7, new ErrorReply(ErrorCode.INTERNAL, message),
                ErrorReply::decode);
        assertThat(decoded.message()).isEqualTo("x".repeat(1022));
    }

    @Example
    void errorReplyCutKeepsACharacterEndingExactlyAtTheLimit() {
        // 1021 ASCII bytes, then a 3-byte character (1021..1023) ends exactly at the limit.
        String message = "y".repeat(1021) + "\u20AC" + "more";
        ErrorReply decoded = roundTrip(Opcode.ERROR, 8, new ErrorReply(ErrorCode.BAD_FRAME, message),
                ErrorReply::decode);
        assertThat(decoded.message()).isEqualTo("y".repeat(1021) + "\u20AC");
    }

    // --- the wire path ------------------------------------------------------------------------------------------

    /** Encodes, decodes through a pipeline, checks framing, decodes the body, and checks every buffer is freed. */
    static <T> T roundTrip(Opcode opcode, long requestId, MessageBody body, Function<ByteBuf, T> decode) {
        ByteBuf encoded = Frames.encode(UnpooledByteBufAllocator.DEFAULT, opcode, requestId, body);
        assertThat(encoded.readableBytes()).isEqualTo(FrameHeader.SIZE + body.encodedSize());
        assertThat(encoded.getInt(FrameHeader.LENGTH_OFFSET))
                .isEqualTo(encoded.readableBytes() - FrameHeader.LENGTH_FIELD_SIZE);

        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1 << 20));
        channel.writeInbound(encoded);
        Frame frame = channel.readInbound();
        assertThat(frame).as("one frame out").isNotNull();
        assertThat(channel.<Object>readInbound()).as("exactly one frame out").isNull();
        try {
            assertThat(frame.opcode()).isEqualTo(opcode);
            assertThat(frame.opcodeCode()).isEqualTo(opcode.code());
            assertThat(frame.requestId()).isEqualTo(requestId);
            assertThat(frame.body().readableBytes()).isEqualTo(body.encodedSize());
            T decoded = decode.apply(frame.body());
            assertThat(frame.body().readableBytes()).as("decode consumes the whole body").isZero();
            return decoded;
        } finally {
            frame.release();
            assertThat(frame.refCnt()).isZero();
            assertThat(encoded.refCnt()).as("receive buffer released once its frame is").isZero();
            assertThat(channel.finish()).isFalse();
        }
    }

    // --- generators ---------------------------------------------------------------------------------------------

    /** Code points from ASCII, Latin-1, CJK and astral planes (never lone surrogates). */
    private static Arbitrary<Integer> codePoints() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(0x20, 0x7E)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0x00, 0x1F)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0x80, 0x7FF)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0x800, 0xFFFF)
                        .filter(c -> c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0x10000, Character.MAX_CODE_POINT)));
    }

    private static Arbitrary<String> strings(int minCodePoints, int maxCodePoints) {
        return codePoints().list().ofMinSize(minCodePoints).ofMaxSize(maxCodePoints).map(cps -> {
            StringBuilder sb = new StringBuilder();
            cps.forEach(sb::appendCodePoint);
            return sb.toString();
        });
    }

    @Provide
    Arbitrary<String> identities() {
        return strings(1, 255).filter(s -> s.getBytes(StandardCharsets.UTF_8).length <= Hello.MAX_IDENTITY_BYTES)
                .edgeCases(c -> c.add("a", "x".repeat(255), "\u00e9".repeat(127) + "z", "\uD83D\uDE00"));
    }

    /** What a donor might hold: up to 40 distinct identities (more than one reply lists), any sizes. */
    @Provide
    Arbitrary<List<ClientShares.Share>> holdings() {
        Arbitrary<ClientShares.Share> share = net.jqwik.api.Combinators.combine(identities(),
                Arbitraries.integers().between(0, Integer.MAX_VALUE), Arbitraries.longs().between(0, Long.MAX_VALUE))
                .as(ClientShares.Share::new);
        return share.list().ofMaxSize(40).uniqueElements(ClientShares.Share::identity);
    }

    @Provide
    Arbitrary<String> shortMessages() {
        return strings(0, 256).filter(s -> s.getBytes(StandardCharsets.UTF_8).length <= ErrorReply.MAX_MESSAGE_BYTES);
    }

    @Provide
    Arbitrary<String> longMessages() {
        return strings(250, 1500);
    }

    @Provide
    Arbitrary<Opcode> slabRefOpcodes() {
        return Arbitraries.of(Opcode.FREE_SLAB, Opcode.ALLOC_SLAB_OK, Opcode.FREE_SLAB_OK);
    }

    /** {@code INTERNAL} stands for "accepted" here. */
    @Provide
    Arbitrary<ErrorCode> evictOutcomes() {
        return Arbitraries.of(ErrorCode.INTERNAL, ErrorCode.EVICT_NOWHERE, ErrorCode.EVICT_FAILED);
    }

    @Provide
    Arbitrary<Opcode> heartbeatOpcodes() {
        return Arbitraries.of(Opcode.HEARTBEAT, Opcode.HEARTBEAT_OK);
    }
}
