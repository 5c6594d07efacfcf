package dev.valet.donor.server;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.HeadroomConfig;
import dev.valet.common.protocol.AuthChallenge;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PageIndexList;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A test client for an in-process donor pipeline: {@code FrameDecoder → DonorHandler} on an {@link EmbeddedChannel}.
 * Requests are encoded with the real protocol classes; replies are cut by a second {@link FrameDecoder}, so a
 * malformed reply fails the test.
 */
final class EmbeddedDonorClient {
    /** A headroom that never evicts (evictBelow 0), for tests of the protocol rather than of memory pressure. */
    static final HeadroomConfig NO_EVICTION = headroom("evictBelow: 0\nexpandAbove: 1\n");

    /** Headroom as donor.yaml's {@code headroom:} section would give it. */
    static HeadroomConfig headroom(String yaml) {
        return ConfigLoader.parse("headroom", yaml, HeadroomConfig.class);
    }

    final EmbeddedChannel channel;
    private final EmbeddedChannel replyDecoder;
    private long nextId = 1;

    EmbeddedDonorClient(Donor donor) {
        this.channel = new EmbeddedChannel(new FrameDecoder(donor.maxFrameBytes()), new DonorHandler(donor));
        this.replyDecoder = new EmbeddedChannel(new FrameDecoder(donor.maxFrameBytes()));
    }

    long nextId() {
        return nextId++;
    }

    /** What came back: the frame's fields copied out. */
    record Reply(int opcodeCode, long requestId, byte[] body) {
        Opcode opcode() {
            return Opcode.fromCode(opcodeCode);
        }

        <T> T decode(Function<ByteBuf, T> decoder) {
            ByteBuf b = Unpooled.wrappedBuffer(body);
            T value = decoder.apply(b);
            assertThat(b.readableBytes()).as("reply body fully decoded").isZero();
            return value;
        }

        ErrorReply error() {
            assertThat(opcode()).as("reply is an ERROR").isEqualTo(Opcode.ERROR);
            return decode(ErrorReply::decode);
        }

        ErrorCode errorCode() {
            return error().code();
        }

        List<Page> pages() {
            assertThat(opcode()).isEqualTo(Opcode.READ_PAGES_OK);
            PageBatch batch = new PageBatch().wrap(Unpooled.wrappedBuffer(body), "READ_PAGES_OK");
            List<Page> pages = new ArrayList<>();
            for (int i = 0; i < batch.count(); i++) {
                assertThat(batch.checksumValid(i)).as("reply page %d carries its CRC", i).isTrue();
                pages.add(new Page(batch.pageIndex(i), batch.version(i), batch.crc(i),
                        ByteBufUtil.getBytes(batch.buffer(), batch.dataIndex(i), FrameHeader.PAGE_SIZE)));
            }
            return pages;
        }

        long slabIdOfPages() {
            return Unpooled.wrappedBuffer(body).getLong(0);
        }
    }

    /** A page as sent or received. */
    record Page(long index, long version, int crc, byte[] data) {
        static Page of(long index, long version, byte[] data) {
            return new Page(index, version, PageChecksum.crc32c(data, 0), data);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Page p && p.index == index && p.version == version && p.crc == crc
                    && java.util.Arrays.equals(p.data, data);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(index, version, crc, java.util.Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "Page[" + index + " v" + version + " crc " + Integer.toHexString(crc) + "]";
        }

        static Page filled(long index, long version, int seed) {
            byte[] data = new byte[FrameHeader.PAGE_SIZE];
            new java.util.Random(seed).nextBytes(data);
            return of(index, version, data);
        }
    }

    /** Writes bytes into the donor and returns every reply that came out. */
    List<Reply> sendRaw(ByteBuf bytes) {
        channel.writeInbound(bytes);
        channel.checkException();
        return drain();
    }

    List<Reply> drain() {
        List<Reply> replies = new ArrayList<>();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            replyDecoder.writeInbound((ByteBuf) o);
            replyDecoder.checkException();
            for (Object f; (f = replyDecoder.readInbound()) != null; ) {
                Frame frame = (Frame) f;
                replies.add(new Reply(frame.opcodeCode(), frame.requestId(), ByteBufUtil.getBytes(frame.body())));
                frame.release();
            }
        }
        return replies;
    }

    /** Sends one request frame and returns its single reply, checking the request id is echoed. */
    Reply call(long requestId, ByteBuf frame) {
        List<Reply> replies = sendRaw(frame);
        assertThat(replies).as("one reply per request").hasSize(1);
        assertThat(replies.get(0).requestId()).as("request id echoed").isEqualTo(requestId);
        return replies.get(0);
    }

    Reply call(Opcode op, MessageBody body) {
        long id = nextId();
        return call(id, Frames.encode(UnpooledByteBufAllocator.DEFAULT, op, id, body));
    }

    Reply callEmpty(Opcode op) {
        long id = nextId();
        ByteBuf b = Unpooled.buffer();
        Frames.finish(b, Frames.begin(b, op, id));
        return call(id, b);
    }

    Reply hello(String identity) {
        return call(Opcode.HELLO, new Hello(FrameHeader.VERSION, identity));
    }

    /** The full handshake with a donor that has {@code secret}: HELLO, check the donor's proof, AUTH. */
    Reply authenticate(String identity, ClusterSecret secret) {
        byte[] clientNonce = ClusterSecret.freshNonce();
        Reply ok = call(Opcode.HELLO, new Hello(FrameHeader.VERSION, identity, clientNonce));
        assertThat(ok.opcode()).isEqualTo(Opcode.HELLO_OK);
        AuthChallenge challenge = ok.decode(HelloOk::decode).auth();
        assertThat(challenge).as("the donor sends its nonce and proof").isNotNull();
        assertThat(ClusterSecret.matches(secret.donorProof(identity, clientNonce, challenge.donorNonce()),
                challenge.donorProof())).as("the donor's proof verifies").isTrue();
        return call(Opcode.AUTH, new AuthProof(secret.clientProof(identity, clientNonce, challenge.donorNonce())));
    }

    Reply alloc(long slabId, long bytes) {
        return call(Opcode.ALLOC_SLAB, new SlabAlloc(slabId, bytes));
    }

    Reply free(long slabId) {
        return call(Opcode.FREE_SLAB, new SlabRef(slabId));
    }

    Reply stats() {
        return callEmpty(Opcode.STATS);
    }

    Reply heartbeat(long nanos) {
        return call(Opcode.HEARTBEAT, new Heartbeat(nanos));
    }

    Reply write(long slabId, Page... pages) {
        long id = nextId();
        return call(id, writeFrame(id, slabId, pages));
    }

    Reply read(long slabId, long... indexes) {
        long id = nextId();
        return call(id, readFrame(id, slabId, indexes));
    }

    static ByteBuf writeFrame(long requestId, long slabId, Page... pages) {
        ByteBuf out = Unpooled.buffer(PageBatchEncoder.frameSize(pages.length));
        PageBatchEncoder enc = new PageBatchEncoder().begin(out, Opcode.WRITE_PAGES, requestId, slabId);
        for (Page p : pages) {
            enc.add(p.index(), p.version(), p.crc(), p.data(), 0);
        }
        enc.finish();
        return out;
    }

    static ByteBuf readFrame(long requestId, long slabId, long... indexes) {
        ByteBuf out = Unpooled.buffer(PageIndexList.frameSize(indexes.length));
        PageIndexList.encode(out, requestId, slabId, indexes, indexes.length);
        return out;
    }

    /** A frame with any opcode byte and body, for opcodes the protocol classes will not write. */
    static ByteBuf rawFrame(int opcode, long requestId, byte[] body) {
        return Unpooled.buffer().writeInt(FrameHeader.SIZE - FrameHeader.LENGTH_FIELD_SIZE + body.length)
                .writeShort(FrameHeader.MAGIC).writeByte(FrameHeader.VERSION).writeByte(opcode)
                .writeLong(requestId).writeBytes(body);
    }

    void close() {
        channel.finishAndReleaseAll();
        replyDecoder.finishAndReleaseAll();
    }
}
