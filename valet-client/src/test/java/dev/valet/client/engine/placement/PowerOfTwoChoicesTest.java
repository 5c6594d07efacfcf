package dev.valet.client.engine.placement;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class PowerOfTwoChoicesTest {
    private static final long SLAB = 1L << 30;

    private static DonorSignals free(long slabs) {
        return new DonorSignals(slabs * SLAB, 0, slabs * SLAB, 0, 0);
    }

    @Test
    void theDonorWithLeastFreeMemoryLosesEveryPair() {
        Map<String, DonorSignals> donors = Map.of("small", free(2), "medium", free(8), "large", free(32));
        PowerOfTwoChoices<String> policy = new PowerOfTwoChoices<>(new SplittableRandom(3));

        for (int i = 0; i < 200; i++) {
            assertThat(policy.choose(List.of("small", "medium", "large"), donors::get, 1, SLAB))
                    .hasSize(1).doesNotContain("small");
        }
    }

    @Test
    void copiesAreDistinctAndEligible() {
        Map<String, DonorSignals> donors = Map.of("a", free(4), "b", free(8), "c", free(16),
                "full", new DonorSignals(64 * SLAB, 0, 0, 0, 0));
        PowerOfTwoChoices<String> policy = new PowerOfTwoChoices<>(new SplittableRandom(4));

        for (int i = 0; i < 200; i++) {
            List<String> chosen = policy.choose(List.of("a", "full", "b", "c"), donors::get, 2, SLAB);
            assertThat(chosen).hasSize(2).doesNotHaveDuplicates().doesNotContain("full");
        }
    }

    @Test
    void aLoneEligibleDonorTakesOneCopy() {
        Map<String, DonorSignals> donors = Map.of("only", free(4), "full", free(0));

        List<String> chosen = new PowerOfTwoChoices<String>(new SplittableRandom(5))
                .choose(List.of("full", "only", "only"), donors::get, 3, SLAB);

        assertThat(chosen).containsExactly("only");
    }
}
