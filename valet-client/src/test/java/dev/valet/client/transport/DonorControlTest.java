package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.ProtocolException;
import dev.valet.common.protocol.SlabRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rules every transport's replies go by, and what the control requests check in them. */
class DonorControlTest {
    private static final DonorAddress DONOR = DonorAddress.parse("127.0.0.1:7000");

    private static ByteBuf body(MessageBody m) {
        ByteBuf b = Unpooled.buffer(m.encodedSize());
        m.encode(b);
        return b;
    }

    @Test
    void anErrorIsTheDonorsTypedRefusalTheExpectedReplyIsNoneAndAnyOtherOpcodeIsAProtocolError() {
        DonorException refusal = DonorControl.refusal(DONOR, Opcode.ERROR.code(), Opcode.STATS_OK,
                body(new ErrorReply(ErrorCode.NO_SUCH_SLAB, "slab 9")));
        assertThat(refusal.code()).isEqualTo(ErrorCode.NO_SUCH_SLAB);
        assertThat(refusal).hasMessage("127.0.0.1:7000: NO_SUCH_SLAB: slab 9");
        assertThat(DonorControl.refusal(DONOR, Opcode.STATS_OK.code(), Opcode.STATS_OK, Unpooled.EMPTY_BUFFER))
                .isNull();
        assertThatThrownBy(() -> DonorControl.refusal(DONOR, Opcode.LIST_SLABS_OK.code(), Opcode.STATS_OK,
                Unpooled.EMPTY_BUFFER)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("got LIST_SLABS_OK in reply to a request expecting STATS_OK");
        assertThatThrownBy(() -> DonorControl.refusal(DONOR, 0x7F, Opcode.STATS_OK, Unpooled.EMPTY_BUFFER))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("unknown opcode 127");
    }

    @Test
    void aPageRequestCarriesOneToTheConnectionsMostPages() {
        DonorControl.checkPageCount(1, 4);
        DonorControl.checkPageCount(4, 4);
        assertThatThrownBy(() -> DonorControl.checkPageCount(0, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("0 pages in one request; this connection allows 1..4");
        assertThatThrownBy(() -> DonorControl.checkPageCount(5, 4)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A transport that answers every request with one canned reply body, and remembers what was sent. */
    private static final class Canned implements DonorControl.Requests {
        final List<String> sent = new ArrayList<>();
        final ByteBuf reply;

        Canned(ByteBuf reply) {
            this.reply = reply;
        }

        @Override
        public <T> CompletableFuture<T> request(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode,
                                                boolean urgent) {
            sent.add(opcode + (urgent ? " urgent" : ""));
            try {
                return CompletableFuture.completedFuture(decode.apply(reply.duplicate()));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }

    @Test
    void aReplyAboutAnotherSlabOrOtherPagesIsAProtocolErrorNotAnAnswer() {
        Canned otherSlab = new Canned(body(new SlabRef(8)));
        DonorControl control = new DonorControl(otherSlab);
        assertThatThrownBy(() -> control.freeSlab(7).get()).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ProtocolException.class).hasMessageContaining("FREE_SLAB_OK for slab 8");
        assertThatThrownBy(() -> control.allocateSlab(7, 4 << 20).get()).cause()
                .hasMessageContaining("ALLOC_SLAB_OK for slab 8, expected 7");
        Canned otherPages = new Canned(body(new PageIndex(7, 10, new long[] {1}, new int[] {0})));
        assertThatThrownBy(() -> new DonorControl(otherPages).readIndex(7, 11, 1).get()).cause()
                .isInstanceOf(ProtocolException.class).hasMessageContaining("expected 7 11+1");
        assertThat(otherSlab.sent).containsExactly("FREE_SLAB", "ALLOC_SLAB");
    }

    @Test
    void heartbeatsAndStatsMayOvertakeQueuedRequestsNothingElseMay() {
        Canned c = new Canned(Unpooled.EMPTY_BUFFER);
        DonorControl control = new DonorControl(c);
        control.heartbeat();
        control.stats();
        control.listSlabs();
        assertThat(c.sent).containsExactly("HEARTBEAT urgent", "STATS urgent", "LIST_SLABS");
    }
}
