package dev.valet.client.transport.tcp;

import dev.valet.client.transport.WireCounters;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.EvictRequest;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.SlabRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A donor's EVICT arriving on the client's connection: the connection on a netty {@link EmbeddedChannel} stands in
 * for the donor's side of the socket (frames in, frames out, no process needed for what is pure framing).
 */
class DonorRequestsTest {
    private static final long EVICT_ID = FrameHeader.DONOR_REQUEST_BIT | 7;

    private final TcpDonorConnection connection = new TcpDonorConnection(DonorAddress.parse("127.0.0.1:7070"),
            Duration.ofSeconds(5), 32, null, WireCounters.NONE);
    private final EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1 << 20), connection);
    private final EmbeddedChannel replies = new EmbeddedChannel(new FrameDecoder(1 << 20));

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
        replies.finishAndReleaseAll();
    }

    private Frame answerTo(ByteBuf request) {
        channel.writeInbound(request);
        channel.runPendingTasks();
        ByteBuf out = channel.readOutbound();
        assertThat(out).as("an answer").isNotNull();
        replies.writeInbound(out);
        Frame frame = replies.readInbound();
        assertThat(frame.requestId()).as("the EVICT's id echoed").isEqualTo(EVICT_ID);
        return frame;
    }

    private static ByteBuf evict(long id, long slabId) {
        return Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.EVICT, id, new EvictRequest(slabId, 1000));
    }

    @Test
    void anEvictIsAnsweredByTheHandlerWithItsId() {
        connection.onDonorRequests((slabId, deadline) -> CompletableFuture.completedFuture(
                EvictReply.accepted(slabId)));
        Frame frame = answerTo(evict(EVICT_ID, 42));
        assertThat(frame.opcode()).isEqualTo(Opcode.EVICT_OK);
        assertThat(EvictReply.decode(frame.body())).isEqualTo(EvictReply.accepted(42));
        frame.release();
    }

    @Test
    void withoutAHandlerAnEvictIsDeclined() {
        Frame frame = answerTo(evict(EVICT_ID, 42));
        assertThat(EvictReply.decode(frame.body())).isEqualTo(new EvictReply(42, ErrorCode.EVICT_FAILED));
        frame.release();
    }

    @Test
    void aMalformedEvictGetsAnErrorNamingTheProblemAndTheConnectionGoesOn() {
        Frame frame = answerTo(Frames.encode(UnpooledByteBufAllocator.DEFAULT, Opcode.EVICT, EVICT_ID,
                new SlabRef(42)));
        assertThat(frame.opcode()).isEqualTo(Opcode.ERROR);
        ErrorReply error = ErrorReply.decode(frame.body());
        assertThat(error.code()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(error.message()).isEqualTo("EVICT body is 8 bytes (expected 12)");
        frame.release();
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void anEvictWithoutTheDonorRequestBitIsRefused() {
        channel.writeInbound(evict(7, 42));
        ByteBuf out = channel.readOutbound();
        replies.writeInbound(out);
        Frame frame = replies.readInbound();
        assertThat(ErrorReply.decode(frame.body()).message()).contains("lacks the donor-request bit");
        frame.release();
    }
}
