package dev.valet.client.engine.placement;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class RandomPlacementTest {
    private static final long SLAB = 1L << 30;
    private static final DonorSignals ROOMY = new DonorSignals(64 * SLAB, 0, 32 * SLAB, 0, 0);
    private static final DonorSignals FULL = new DonorSignals(64 * SLAB, 0, SLAB - 1, 0, 0);

    @Test
    void spreadsCopiesEvenlyOverEligibleDonorsOnly() {
        Map<String, DonorSignals> donors = Map.of("a", ROOMY, "b", ROOMY, "c", ROOMY, "full", FULL);
        RandomPlacement<String> policy = new RandomPlacement<>(new SplittableRandom(7));
        Map<String, Integer> copies = new HashMap<>();

        for (int i = 0; i < 3_000; i++) {
            List<String> chosen = policy.choose(List.of("a", "full", "b", "c"), donors::get, 2, SLAB);
            assertThat(chosen).hasSize(2).doesNotHaveDuplicates().doesNotContain("full");
            chosen.forEach(d -> copies.merge(d, 1, Integer::sum));
        }

        assertThat(copies.keySet()).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(copies.values()).allSatisfy(n -> assertThat(n).isBetween(1_800, 2_200));
    }

    @Test
    void returnsEveryEligibleDonorOnceWhenAskedForMore() {
        Map<String, DonorSignals> donors = Map.of("a", ROOMY, "b", ROOMY, "full", FULL);

        List<String> chosen = new RandomPlacement<String>(new SplittableRandom(1))
                .choose(List.of("a", "b", "b", "full"), donors::get, 5, SLAB);

        assertThat(chosen).containsExactlyInAnyOrder("a", "b");
    }
}
