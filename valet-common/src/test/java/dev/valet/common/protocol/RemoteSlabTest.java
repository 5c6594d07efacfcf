package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RemoteSlabTest {

    @Test
    void roundTripsAndComputesPageAndMetadataAddresses() {
        RemoteSlab r = new RemoteSlab(3, 0x7f00_0000_0000L, 0xdeadbeef, 256);
        ByteBuf b = Unpooled.buffer();
        r.encode(b);
        assertThat(b.readableBytes()).isEqualTo(RemoteSlab.SIZE);
        assertThat(RemoteSlab.decode(b)).isEqualTo(r);
        assertThat(r.dataAddress(2)).isEqualTo(0x7f00_0000_0000L + 2 * 4096);
        assertThat(r.metadataAddress(0)).isEqualTo(0x7f00_0000_0000L + 256L * 4096);
        assertThat(r.metadataAddress(3)).isEqualTo(0x7f00_0000_0000L + 256L * 4096 + 3 * 32);
    }

    @Test
    void wrongLengthOrNoPagesIsBadFrame() {
        assertThatThrownBy(() -> RemoteSlab.decode(Unpooled.buffer().writeLong(1)))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("REGISTER_SLAB_OK")
                .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.BAD_FRAME);
        ByteBuf zero = Unpooled.buffer();
        new RemoteSlab(1, 4096, 5, 0).encode(zero);
        assertThatThrownBy(() -> RemoteSlab.decode(zero))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("0 pages");
    }

    @Test
    void registerSlabOpcodesAreTheAssignedOnes() {
        assertThat(Opcode.REGISTER_SLAB.code()).isEqualTo(0x20);
        assertThat(Opcode.REGISTER_SLAB.reply()).isEqualTo(Opcode.REGISTER_SLAB_OK);
        assertThat(Opcode.fromCode(0xA0)).isEqualTo(Opcode.REGISTER_SLAB_OK);
        assertThat(ErrorCode.RDMA_REGISTRATION_FAILED.code()).isEqualTo(30);
    }
}
