package dev.valet.client.engine.placement;

import dev.valet.common.config.RankWeights;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.valet.client.engine.placement.DonorSets.SLAB;
import static org.assertj.core.api.Assertions.assertThat;

class DonorRankerPropertyTest {
    @Property
    void choosesDistinctEligibleDonorsAsManyAsPossibleWhateverServerSelectNum(
            @ForAll(supplier = DonorSets.class) List<DonorSignals> signals,
            @ForAll @IntRange(min = 0, max = 10) int count, @ForAll @IntRange(min = 1, max = 16) int serverSelectNum,
            @ForAll long seed) {
        List<Integer> eligible = DonorSets.eligible(signals);

        List<Integer> chosen = new DonorRanker<Integer>(serverSelectNum, RankWeights.DEFAULTS,
                new SplittableRandom(seed)).choose(DonorSets.donors(signals), signals::get, count, SLAB);

        assertThat(chosen).doesNotHaveDuplicates();
        assertThat(eligible).containsAll(chosen);
        assertThat(chosen).hasSize(Math.min(count, eligible.size()));
    }

    @Property
    void drawingEveryEligibleDonorGivesTheTopCountByScoreBestFirst(
            @ForAll(supplier = DonorSets.class) List<DonorSignals> signals,
            @ForAll @IntRange(min = 0, max = 10) int count, @ForAll long seed) {
        DonorRanker<Integer> ranker = new DonorRanker<>(16, RankWeights.DEFAULTS, new SplittableRandom(seed));
        List<Integer> eligible = DonorSets.eligible(signals);
        double[] eligibleScores = ranker.scores(eligible.stream().map(signals::get).toList());
        Map<Integer, Double> scoreOf = new HashMap<>();
        for (int i = 0; i < eligible.size(); i++) {
            scoreOf.put(eligible.get(i), eligibleScores[i]);
        }

        List<Integer> chosen = ranker.choose(DonorSets.donors(signals), signals::get, count, SLAB);

        List<Double> topScores = Arrays.stream(eligibleScores).boxed().sorted(Comparator.reverseOrder())
                .limit(count).toList();
        assertThat(chosen.stream().map(scoreOf::get).toList()).isEqualTo(topScores);
    }
}
