package dev.valet.tools.placement;

import dev.valet.client.engine.placement.DonorRanker;
import dev.valet.client.engine.placement.PlacementPolicy;
import dev.valet.client.engine.placement.PowerOfTwoChoices;
import dev.valet.client.engine.placement.RandomPlacement;
import dev.valet.common.config.RankWeights;
import dev.valet.tools.placement.PlacementSimulation.Params;
import dev.valet.tools.placement.PlacementSimulation.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Structural facts of small runs; the comparison itself is in docs/placement.md. */
class PlacementSimulationTest {
    private static final Params SMALL = Params.defaults(200, 2_000);

    enum Policy {
        RANK_BASED, RANDOM, POWER_OF_TWO;

        PlacementPolicy<SimDonor> create(long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            return switch (this) {
                case RANK_BASED -> new DonorRanker<>(4, RankWeights.DEFAULTS, random);
                case RANDOM -> new RandomPlacement<>(random);
                case POWER_OF_TWO -> new PowerOfTwoChoices<>(random);
            };
        }
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void theSameSeedGivesTheSameResult(Policy policy) {
        Result first = PlacementSimulation.run(SMALL, policy.create(9), 42);
        Result second = PlacementSimulation.run(SMALL, policy.create(9), 42);

        assertThat(second).isEqualTo(first);
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void everyCopyIsAccountedFor(Policy policy) {
        Result r = PlacementSimulation.run(SMALL, policy.create(1), 1);

        assertThat(r.copiesPlaced() + r.copiesRefused())
                .isEqualTo((long) SMALL.slabs() * SMALL.numReplica() + r.repairsAttempted());
        assertThat(r.copiesHeld()).isEqualTo(r.copiesPlaced() - r.copiesLost());
        assertThat(r.meanSlabsPerDonor() * SMALL.donors()).isCloseTo(r.copiesHeld(), within(1e-6));
        assertThat(r.maxSlabsPerDonor()).isGreaterThanOrEqualTo((int) Math.ceil(r.meanSlabsPerDonor()));
        assertThat(r.repairsAttempted()).isLessThanOrEqualTo(r.copiesLost());
        assertThat(r.slabsLost()).isLessThanOrEqualTo(r.copiesLost());
        assertThat(r.copiesLost()).as("the scenario has shrinking hosts").isPositive();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void rankBasedLosesNoMoreCopiesThanRandom(long seed) {
        Result rank = PlacementSimulation.run(SMALL, Policy.RANK_BASED.create(seed), seed);
        Result random = PlacementSimulation.run(SMALL, Policy.RANDOM.create(seed), seed);

        assertThat(rank.copiesLost()).isLessThanOrEqualTo(random.copiesLost());
    }

    @Test
    void printsOneRowPerPolicy() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        PlacementSimulation.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), 3, 50, 300);

        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(5);
        assertThat(lines[2]).startsWith("rank-based");
        assertThat(lines[3]).startsWith("random");
        assertThat(lines[4]).startsWith("power-of-two");
    }
}
