package dev.valet.donor.server;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.LimitsConfig;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabList;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.server.EmbeddedDonorClient.Page;
import dev.valet.donor.server.EmbeddedDonorClient.Reply;
import dev.valet.donor.store.SlabStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The handshake and the limits on an in-process donor: a peer that has not proved the secret gets a closed
 * connection and nothing else; limits on clients, slabs and in-flight requests hold.
 */
class DonorAuthTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final int MAX_FRAME = 64 * 1024;

    @TempDir
    Path dir;

    private SlabStore store;
    private final List<EmbeddedDonorClient> clients = new ArrayList<>();

    private Donor donor(ClusterSecret secret, LimitsConfig limits) {
        store = new SlabStore(1 << 20, 256 * 1024, false, limits.maxSlabsPerClient());
        return new Donor(store, new FreeMemoryTrend(0.7, 8), new HelloOk(9, PAGE, MAX_FRAME, 256 * 1024), secret,
                limits);
    }

    /** Limits as donor.yaml's {@code limits:} section would give them. */
    private static LimitsConfig limits(String yaml) {
        return ConfigLoader.parse("limits", yaml, LimitsConfig.class);
    }

    private EmbeddedDonorClient client(Donor donor) {
        EmbeddedDonorClient c = new EmbeddedDonorClient(donor);
        clients.add(c);
        return c;
    }

    private ClusterSecret secret(String name) throws IOException {
        return ClusterSecret.generate(dir.resolve(name));
    }

    @AfterEach
    void tearDown() {
        clients.forEach(EmbeddedDonorClient::close);
        if (store != null) {
            store.close();
        }
    }

    private static ByteBuf frame(Opcode op, long id, dev.valet.common.protocol.MessageBody body) {
        return Frames.encode(UnpooledByteBufAllocator.DEFAULT, op, id, body);
    }

    /** Feeds bytes and asserts the donor closed the connection without sending a single byte. */
    private static void assertClosedSilently(EmbeddedDonorClient c, ByteBuf bytes) {
        List<Reply> replies = c.sendRaw(bytes);
        assertThat(replies).as("nothing is sent to an unauthenticated peer").isEmpty();
        assertThat(c.channel.isOpen()).as("the connection is closed").isFalse();
    }

    @Test
    void theRightSecretOpensTheConnectionAndSlabsWork() throws IOException {
        ClusterSecret secret = secret("s");
        Donor donor = donor(secret, LimitsConfig.DEFAULTS);
        EmbeddedDonorClient c = client(donor);
        Reply ok = c.authenticate("alpha", secret);
        assertThat(ok.opcode()).isEqualTo(Opcode.AUTH_OK);
        assertThat(ok.body()).isEmpty();
        assertThat(c.alloc(1, 4 * PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        Page p = Page.filled(0, 1, 5);
        assertThat(c.write(1, p).opcode()).isEqualTo(Opcode.WRITE_PAGES_OK);
        assertThat(c.read(1, 0).pages()).containsExactly(p);
        assertThat(donor.clientCount()).isEqualTo(1);
        // Once authenticated, a bad request is answered with an ERROR as usual, and a second AUTH is one.
        assertThat(c.call(Opcode.AUTH, new AuthProof(new byte[32])).errorCode()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(c.channel.isOpen()).isTrue();
    }

    @Test
    void aWrongProofIsClosedWithoutAWord() throws IOException {
        ClusterSecret secret = secret("right");
        ClusterSecret other = secret("wrong");
        Donor donor = donor(secret, LimitsConfig.DEFAULTS);
        EmbeddedDonorClient c = client(donor);
        byte[] nonce = ClusterSecret.freshNonce();
        Reply ok = c.call(Opcode.HELLO, new Hello(FrameHeader.VERSION, "mallory", nonce));
        byte[] donorNonce = ok.decode(HelloOk::decode).auth().donorNonce();
        // A proof made with another secret, and the donor's own proof sent back, are both refused.
        assertClosedSilently(c, frame(Opcode.AUTH, 2, new AuthProof(other.clientProof("mallory", nonce,
                donorNonce))));
        EmbeddedDonorClient reflector = client(donor);
        Reply ok2 = reflector.call(Opcode.HELLO, new Hello(FrameHeader.VERSION, "mallory", nonce));
        assertClosedSilently(reflector, frame(Opcode.AUTH, 2,
                new AuthProof(ok2.decode(HelloOk::decode).auth().donorProof())));
        assertThat(donor.clientCount()).isZero();
    }

    @Test
    void anyRequestBeforeAuthIsClosedWithoutAWord() throws IOException {
        ClusterSecret secret = secret("s");
        Donor donor = donor(secret, LimitsConfig.DEFAULTS);
        // Before HELLO: every request opcode, a reply opcode and an unknown one.
        for (Opcode op : List.of(Opcode.STATS, Opcode.ALLOC_SLAB, Opcode.LIST_SLABS, Opcode.READ_INDEX,
                Opcode.HEARTBEAT, Opcode.AUTH, Opcode.HELLO_OK)) {
            assertClosedSilently(client(donor), EmbeddedDonorClient.rawFrame(op.code(), 1, new byte[8]));
        }
        assertClosedSilently(client(donor), EmbeddedDonorClient.rawFrame(0x42, 1, new byte[0]));
        // After HELLO, before AUTH: only AUTH is heard.
        EmbeddedDonorClient c = client(donor);
        assertThat(c.call(Opcode.HELLO, new Hello(FrameHeader.VERSION, "eager")).opcode()).isEqualTo(Opcode.HELLO_OK);
        assertClosedSilently(c, frame(Opcode.ALLOC_SLAB, 2, new SlabAlloc(1, PAGE)));
        // A malformed HELLO, a second HELLO, a broken header: the same.
        assertClosedSilently(client(donor), EmbeddedDonorClient.rawFrame(Opcode.HELLO.code(), 1, new byte[] {1, 1}));
        EmbeddedDonorClient twice = client(donor);
        twice.call(Opcode.HELLO, new Hello(FrameHeader.VERSION, "twice"));
        assertClosedSilently(twice, frame(Opcode.HELLO, 2, new Hello(FrameHeader.VERSION, "twice")));
        assertClosedSilently(client(donor), Unpooled.buffer().writeInt(12).writeShort(0x1234).writeZero(10));
        assertThat(store.slabCount()).isZero();
        assertThat(donor.clientCount()).isZero();
    }

    @Test
    void aHandshakeNotDoneInTimeIsClosed() throws IOException {
        ClusterSecret secret = secret("s");
        Donor donor = donor(secret, limits("handshakeTimeout: 2s\n"));
        EmbeddedDonorClient idle = client(donor);
        EmbeddedDonorClient halfway = client(donor);
        halfway.call(Opcode.HELLO, new Hello(FrameHeader.VERSION, "slow"));
        EmbeddedDonorClient done = client(donor);
        done.authenticate("quick", secret);

        for (EmbeddedDonorClient c : List.of(idle, halfway, done)) {
            c.channel.advanceTimeBy(1, TimeUnit.SECONDS);
            c.channel.runScheduledPendingTasks();
            assertThat(c.channel.isOpen()).as("still within the timeout").isTrue();
            c.channel.advanceTimeBy(1100, TimeUnit.MILLISECONDS);
            c.channel.runScheduledPendingTasks();
        }
        assertThat(idle.channel.isOpen()).isFalse();
        assertThat(halfway.channel.isOpen()).isFalse();
        assertThat(idle.drain()).isEmpty();
        assertThat(done.channel.isOpen()).as("an authenticated connection is not timed out").isTrue();
    }

    @Test
    void withoutASecretHelloIsEnoughAndAuthIsRefused() {
        Donor donor = donor(null, LimitsConfig.DEFAULTS);
        EmbeddedDonorClient c = client(donor);
        assertThat(c.stats().errorCode()).isEqualTo(ErrorCode.HELLO_REQUIRED);
        Reply ok = c.hello("open");
        assertThat(ok.decode(HelloOk::decode).auth()).isNull();
        Reply auth = c.call(Opcode.AUTH, new AuthProof(new byte[32]));
        assertThat(auth.error().message()).contains("this donor has no cluster secret");
        assertThat(c.alloc(1, PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
    }

    @Test
    void beyondMaxClientsTheNextIsClosedUntilOneLeaves() throws IOException {
        ClusterSecret secret = secret("s");
        Donor donor = donor(secret, limits("maxClients: 2\n"));
        EmbeddedDonorClient a = client(donor);
        EmbeddedDonorClient b = client(donor);
        assertThat(a.authenticate("a", secret).opcode()).isEqualTo(Opcode.AUTH_OK);
        assertThat(b.authenticate("b", secret).opcode()).isEqualTo(Opcode.AUTH_OK);
        EmbeddedDonorClient third = client(donor);
        Reply hello = third.call(Opcode.HELLO, new Hello(FrameHeader.VERSION, "c"));
        assertThat(hello.opcode()).isEqualTo(Opcode.HELLO_OK);
        assertThat(third.sendRaw(frame(Opcode.AUTH, 2, new AuthProof(new byte[32])))).isEmpty();
        assertThat(third.channel.isOpen()).isFalse();
        assertThat(donor.clientCount()).isEqualTo(2);

        a.channel.close();
        assertThat(donor.clientCount()).isEqualTo(1);
        EmbeddedDonorClient fourth = client(donor);
        assertThat(fourth.authenticate("d", secret).opcode()).isEqualTo(Opcode.AUTH_OK);
        assertThat(b.heartbeat(7).opcode()).isEqualTo(Opcode.HEARTBEAT_OK);
    }

    @Test
    void maxSlabsPerClientHoldsPerIdentityAndFreeingMakesRoom() {
        Donor donor = donor(null, limits("maxSlabsPerClient: 3\n"));
        EmbeddedDonorClient greedy = client(donor);
        greedy.hello("greedy");
        for (int i = 0; i < 3; i++) {
            assertThat(greedy.alloc(i, PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        }
        Reply refused = greedy.alloc(3, PAGE);
        assertThat(refused.errorCode()).isEqualTo(ErrorCode.TOO_MANY_SLABS);
        assertThat(refused.error().message()).contains("already holds 3 slabs").contains("limits.maxSlabsPerClient");
        // A second connection of the same identity shares the count; another identity has its own.
        EmbeddedDonorClient sameIdentity = client(donor);
        sameIdentity.hello("greedy");
        assertThat(sameIdentity.alloc(9, PAGE).errorCode()).isEqualTo(ErrorCode.TOO_MANY_SLABS);
        EmbeddedDonorClient other = client(donor);
        other.hello("other");
        assertThat(other.alloc(0, PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        assertThat(greedy.free(1).opcode()).isEqualTo(Opcode.FREE_SLAB_OK);
        assertThat(greedy.alloc(3, PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        assertThat(greedy.callEmpty(Opcode.LIST_SLABS).decode(SlabList::decode).slabs()).hasSize(3);
        assertThat(store.slabCount()).isEqualTo(4);
    }

    @Test
    void atMaxInFlightTheDonorStopsReadingUntilRepliesAreWritten() {
        Donor donor = donor(null, limits("maxInFlightPerConnection: 4\n"));
        List<Boolean> autoReadSeen = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(MAX_FRAME), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                autoReadSeen.add(ctx.channel().config().isAutoRead());
                ctx.fireChannelRead(msg);
            }
        }, new DonorHandler(donor));
        try {
            ch.writeInbound(frame(Opcode.HELLO, 1, new Hello(FrameHeader.VERSION, "pipeliner")));
            ByteBuf burst = Unpooled.buffer();
            for (int i = 0; i < 10; i++) {
                ByteBuf f = frame(Opcode.HEARTBEAT, 10 + i, new Heartbeat(i));
                burst.writeBytes(f);
                f.release();
            }
            autoReadSeen.clear();
            ch.writeInbound(burst);
            // Requests 1-4 arrive while reading is on; from the 4th unanswered one on, reading is off.
            assertThat(autoReadSeen).containsExactly(true, true, true, true, false, false, false, false, false, false);
            // The replies were flushed at the end of the read: all answered, reading is back on.
            assertThat(ch.config().isAutoRead()).isTrue();
            int replies = 0;
            for (Object o; (o = ch.readOutbound()) != null; ) {
                ((ByteBuf) o).release();
                replies++;
            }
            assertThat(replies).isEqualTo(11);
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
