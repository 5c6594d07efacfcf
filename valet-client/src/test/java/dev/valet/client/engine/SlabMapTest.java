package dev.valet.client.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SlabMapTest {
    @Test
    void pagesMapToSlabsAndTheLastSlabMayBeShort() {
        SlabMap map = new SlabMap(10 * 4096, 4 * 4096);
        assertThat(map.pageCount()).isEqualTo(10);
        assertThat(map.slabCount()).isEqualTo(3);
        assertThat(map.slabOf(0).id()).isZero();
        assertThat(map.slabOf(3).id()).isZero();
        assertThat(map.slabOf(4).id()).isEqualTo(1);
        SlabEntry last = map.slabOf(9);
        assertThat(last.id()).isEqualTo(2);
        assertThat(last.firstPage()).isEqualTo(8);
        assertThat(last.pageCount()).isEqualTo(2);
        assertThat(map.slabOf(5)).isSameAs(map.slabOf(4));
        assertThat(map.touched()).hasSize(3);
    }

    @Test
    void versionsCountWritesPerPageAndKeepTheLastCrc() {
        SlabMap map = new SlabMap(8 * 4096, 4 * 4096);
        assertThat(map.version(5)).isZero();
        assertThat(map.nextVersion(5, 111)).isEqualTo(1);
        assertThat(map.nextVersion(5, 222)).isEqualTo(2);
        assertThat(map.crc(5)).isEqualTo(222);
        assertThat(map.version(4)).isZero();
    }

    @Test
    void pagesOutsideTheSwapSpaceAreRefused() {
        SlabMap map = new SlabMap(8 * 4096, 4 * 4096);
        assertThatThrownBy(() -> map.slabOf(8)).hasMessage("page 8 outside the swap space (0..7)");
        assertThatThrownBy(() -> map.slabOf(-1)).hasMessageContaining("page -1 outside");
        assertThatThrownBy(() -> new SlabMap(4097, 4096)).hasMessageContaining("multiples of 4096");
    }

    @Test
    void catchUpSendsNewWritesToTheTargetAndPromotesIt() throws Exception {
        SlabEntry slab = new SlabEntry(0, 0, 4);
        assertThat(slab.writeTargets()).isEmpty();
        var before = slab.enterWrite();
        var gate = slab.beginCatchUp(null);
        assertThat(gate).isSameAs(before);
        // The write that started before the catch-up still holds the old gate: it must arrive first.
        assertThat(gate.getRegisteredParties()).isEqualTo(2);
        before.arriveAndDeregister();
        gate.arriveAndAwaitAdvance();
        assertThat(slab.enterWrite()).isNotSameAs(before);
    }
}
