package dev.valet.common.rdma;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Work requests are written in place at the offsets the shim's table confirmed; read back through the same table. */
class SendWorkRequestsTest {

    @Test
    void setWritesEveryFieldInPlaceAndChainLinksAndEndsTheList() {
        java.util.Map<String, Long> layout = Rdma.get().layout();
        try (SendWorkRequests wrs = new SendWorkRequests(3)) {
            wrs.set(1, 77, VerbsLayout.IBV_WR_RDMA_READ, true, 0x1000, 4096, 0x11, 0x2000, 0x22);
            long wr = wrs.address(1);
            assertThat(wrs.address(2) - wrs.address(1)).isEqualTo(layout.get("ibv_send_wr.size"));
            assertThat(NativeMemory.getLong(wr, layout.get("ibv_send_wr.wr_id").intValue())).isEqualTo(77);
            assertThat(NativeMemory.getInt(wr, layout.get("ibv_send_wr.opcode").intValue()))
                    .isEqualTo(layout.get("IBV_WR_RDMA_READ").intValue());
            assertThat(NativeMemory.getInt(wr, layout.get("ibv_send_wr.send_flags").intValue()))
                    .isEqualTo(layout.get("IBV_SEND_SIGNALED").intValue());
            assertThat(NativeMemory.getLong(wr, layout.get("ibv_send_wr.rdma_remote_addr").intValue()))
                    .isEqualTo(0x2000);
            assertThat(NativeMemory.getInt(wr, layout.get("ibv_send_wr.rdma_rkey").intValue())).isEqualTo(0x22);
            assertThat(NativeMemory.getInt(wr, layout.get("ibv_send_wr.num_sge").intValue())).isEqualTo(1);
            long sge = NativeMemory.getAddress(wr, layout.get("ibv_send_wr.sg_list").intValue());
            assertThat(NativeMemory.getLong(sge, layout.get("ibv_sge.addr").intValue())).isEqualTo(0x1000);
            assertThat(NativeMemory.getInt(sge, layout.get("ibv_sge.length").intValue())).isEqualTo(4096);
            assertThat(NativeMemory.getInt(sge, layout.get("ibv_sge.lkey").intValue())).isEqualTo(0x11);

            int next = layout.get("ibv_send_wr.next").intValue();
            wrs.chain(3);
            assertThat(NativeMemory.getAddress(wrs.address(0), next)).isEqualTo(wrs.address(1));
            assertThat(NativeMemory.getAddress(wrs.address(1), next)).isEqualTo(wrs.address(2));
            assertThat(NativeMemory.getAddress(wrs.address(2), next)).isZero();
            wrs.chain(2); // a shorter batch ends earlier, in place
            assertThat(NativeMemory.getAddress(wrs.address(1), next)).isZero();

            // Unsignaled, changed in place: the flag goes back to 0.
            wrs.set(1, 78, VerbsLayout.IBV_WR_RDMA_WRITE, false, 0x1000, 16, 0x11, 0x2000, 0x22);
            assertThat(NativeMemory.getInt(wr, layout.get("ibv_send_wr.send_flags").intValue())).isZero();
            assertThatThrownBy(() -> wrs.chain(4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("chain of 4 outside 1..3");
        }
    }
}
