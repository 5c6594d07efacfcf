package dev.valet.memory.alloc;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The allocator's books alone (no donors): regions never overlap, and a space freed entirely is whole again. */
class AllocatorPropertyTest {
    private static final long PAGES = 512;

    @Provide
    Arbitrary<List<Long>> steps() {
        // > 0: allocate that many bytes; <= 0: free the live region at index -step mod live.
        Arbitrary<Long> allocate = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, 2048)),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(2049, 64 << 10)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(64 << 10, PAGES * 4096)));
        Arbitrary<Long> free = Arbitraries.longs().between(-1000, 0);
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, allocate), net.jqwik.api.Tuple.of(2, free)).list()
                .ofMaxSize(300);
    }

    @Property(tries = 300)
    void placedRegionsNeverOverlapAndFreeingAllRestoresTheSpace(@ForAll("steps") List<Long> steps) {
        Allocator a = new Allocator(PAGES);
        List<Placement> live = new ArrayList<>();
        for (long step : steps) {
            if (step > 0) {
                Placement p = a.allocate(step);
                if (p == null) {
                    assertThat(a.longestFreeRun() * 4096).as("refused only when nothing fits")
                            .isLessThan(step > Allocator.LARGEST_SLOT ? step : 4096);
                    continue;
                }
                assertThat(p.length()).isEqualTo(step);
                assertThat(p.address() + p.footprint()).isLessThanOrEqualTo(PAGES * 4096);
                if (!p.isSlot()) {
                    assertThat(p.address() % 4096).isZero();
                } else {
                    assertThat(p.address() % p.slotSize()).isZero();
                    assertThat(p.slotSize()).isGreaterThanOrEqualTo((int) step).isLessThan((int) Math.max(128,
                            2 * step));
                }
                live.add(p);
            } else if (!live.isEmpty()) {
                a.free(live.remove((int) (-step % live.size())));
            }
            assertDisjoint(live);
            assertThat(a.regions()).isEqualTo(live.size());
        }
        for (Placement p : live) {
            a.free(p);
        }
        assertThat(a.freePages()).isEqualTo(PAGES);
        assertThat(a.longestFreeRun()).isEqualTo(PAGES);
        assertThat(a.slotPages()).isZero();
        assertThat(a.bytes()).isZero();
    }

    /** No two regions share a byte, and no page holds slots of two classes or a slot and a run. */
    private static void assertDisjoint(List<Placement> live) {
        TreeMap<Long, Placement> byAddress = new TreeMap<>();
        TreeMap<Long, Integer> pageOwner = new TreeMap<>();
        for (Placement p : live) {
            Placement clash = byAddress.put(p.address(), p);
            assertThat(clash).as("two regions at %d", p.address()).isNull();
            for (long page = p.firstPage(); page < p.firstPage() + p.pages(); page++) {
                Integer was = pageOwner.put(page, p.slotSize());
                if (was != null) {
                    assertThat(p.isSlot() && was == p.slotSize()).as("page %d shared by %s and class %d", page, p,
                            was).isTrue();
                }
            }
        }
        long end = -1;
        for (Placement p : byAddress.values()) {
            assertThat(p.address()).as("%s overlaps the region before it", p).isGreaterThanOrEqualTo(end);
            end = p.address() + p.footprint();
        }
    }

    @Test
    void freeingTwiceIsRefused() {
        Allocator a = new Allocator(8);
        Placement small = a.allocate(10);
        Placement other = a.allocate(10);
        a.free(small);
        assertThatThrownBy(() -> a.free(small)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not in use");
        Placement big = a.allocate(9000);
        a.free(big);
        assertThatThrownBy(() -> a.free(big)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("overlap");
        a.free(other);
        assertThat(a.freePages()).isEqualTo(8);
    }
}
