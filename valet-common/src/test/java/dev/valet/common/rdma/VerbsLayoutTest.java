package dev.valet.common.rdma;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shim built by this Maven run, loaded for real: its layout table against Java's constants. No device needed. */
class VerbsLayoutTest {

    @Test
    void shimTableMatchesJavaLayoutOnThisHost() {
        Rdma rdma = Rdma.get();
        Map<String, Long> table = rdma.layout();
        assertThat(table).containsAllEntriesOf(VerbsLayout.expected());
        assertThat(VerbsLayout.differences(table)).isEmpty();
        // The value the lab verified for rdma-core 44 (docs/vm-lab.md): checked, never assumed elsewhere.
        assertThat(table).containsEntry("ibv_send_wr.size", 128L);
    }

    @Test
    void deviceCountIsAnswerableWithoutADevice() {
        assertThat(Rdma.get().deviceCount()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void mismatchIsRefusedNamingEveryDifferentField() {
        Map<String, Long> table = new LinkedHashMap<>(Rdma.get().layout());
        table.put("ibv_send_wr.size", 136L);
        table.remove("ibv_sge.lkey");
        table.put("ibv_future.field", 8L);
        assertThat(VerbsLayout.differences(table)).containsExactlyInAnyOrder(
                "ibv_send_wr.size: the shim's headers say 136, Java expects 128",
                "ibv_sge.lkey: missing from the shim's table (Java expects 12)",
                "ibv_future.field: exported by the shim but unknown to Java");
        assertThatThrownBy(() -> VerbsLayout.check(table))
                .isInstanceOf(RdmaUnavailableException.class)
                .hasMessageContaining("verbs layout mismatch")
                .hasMessageContaining("ibv_send_wr.size: the shim's headers say 136");
    }

    @Test
    void postingThroughTheShimReachesTheInlineVerb() {
        // ibv_poll_cq on a NULL cq would crash; the wrappers are exercised in the VM lab. Here: they are bound.
        assertThat(Rdma.get().shim().valet_layout_name(-1)).isNull();
        assertThat(Rdma.get().shim().valet_layout_value(Integer.MAX_VALUE)).isEqualTo(-1L);
    }
}
