package dev.valet.client.engine.placement;

import dev.valet.common.config.RankWeights;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static dev.valet.client.engine.placement.DonorSets.SLAB;
import static org.assertj.core.api.Assertions.assertThat;

/** The {@link PlacementPolicy} contract, for every policy. */
class PlacementPolicyPropertyTest {
    enum Policy {
        RANK_BASED, RANDOM, POWER_OF_TWO;

        PlacementPolicy<Integer> create(RandomGenerator random) {
            return switch (this) {
                case RANK_BASED -> new DonorRanker<>(4, RankWeights.DEFAULTS, random);
                case RANDOM -> new RandomPlacement<>(random);
                case POWER_OF_TWO -> new PowerOfTwoChoices<>(random);
            };
        }
    }

    @Property
    void choosesDistinctEligibleDonorsAsManyAsPossible(@ForAll Policy policy,
            @ForAll(supplier = DonorSets.class) List<DonorSignals> signals,
            @ForAll @IntRange(min = 0, max = 10) int count, @ForAll long seed) {
        List<Integer> eligible = DonorSets.eligible(signals);

        List<Integer> chosen = policy.create(new SplittableRandom(seed))
                .choose(DonorSets.donors(signals), signals::get, count, SLAB);

        assertThat(chosen).doesNotHaveDuplicates();
        assertThat(eligible).containsAll(chosen);
        assertThat(chosen).hasSize(Math.min(count, eligible.size()));
    }

    @Property
    void aDonorListedSeveralTimesIsChosenOnce(@ForAll Policy policy,
            @ForAll(supplier = DonorSets.class) List<DonorSignals> signals,
            @ForAll @IntRange(min = 0, max = 10) int count, @ForAll long seed) {
        List<Integer> listedTwice = new ArrayList<>(DonorSets.donors(signals));
        listedTwice.addAll(DonorSets.donors(signals));

        List<Integer> chosen = policy.create(new SplittableRandom(seed)).choose(listedTwice, signals::get, count,
                SLAB);

        assertThat(chosen).doesNotHaveDuplicates().hasSize(Math.min(count, DonorSets.eligible(signals).size()));
    }
}
