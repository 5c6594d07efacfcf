package dev.valet.client.engine.placement;

import dev.valet.common.config.RankWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class DonorRankerTest {
    private static final long GIB = 1L << 30;
    private static final long SLAB = GIB;
    private static final DonorSignals TYPICAL = new DonorSignals(64 * GIB, 0, 32 * GIB, 1_000, 20_000);

    /** Each signal, with a donor better than {@link #TYPICAL} in that signal alone, and weights ignoring it. */
    enum Signal {
        // More room to lend (its host's free memory is the same; it has lent less so far).
        FREE_MEMORY(new DonorSignals(64 * GIB, 0, 48 * GIB, 1_000, 20_000), new RankWeights(0, 1, 0.5, 0.5)),
        GRADIENT(new DonorSignals(64 * GIB, GIB / 10, 32 * GIB, 1_000, 20_000), new RankWeights(1, 0, 0.5, 0.5)),
        LOAD(new DonorSignals(64 * GIB, 0, 32 * GIB, 100, 20_000), new RankWeights(1, 1, 0, 0.5)),
        LATENCY(new DonorSignals(64 * GIB, 0, 32 * GIB, 1_000, 5_000), new RankWeights(1, 1, 0.5, 0));

        final DonorSignals better;
        final RankWeights ignoringIt;

        Signal(DonorSignals better, RankWeights ignoringIt) {
            this.better = better;
            this.ignoringIt = ignoringIt;
        }
    }

    @ParameterizedTest
    @EnumSource(Signal.class)
    void theDonorBetterInOneSignalRanksFirstWhateverTheDraw(Signal signal) {
        Map<String, DonorSignals> donors = Map.of("typical", TYPICAL, "better", signal.better);

        for (long seed = 0; seed < 20; seed++) {
            List<String> chosen = ranker(RankWeights.DEFAULTS, seed)
                    .choose(List.of("typical", "better"), donors::get, 2, SLAB);

            assertThat(chosen).containsExactly("better", "typical");
        }
    }

    @Test
    void aShrinkingDonorRanksBelowAStableOne() {
        DonorSignals shrinking = new DonorSignals(64 * GIB, -GIB / 10, 32 * GIB, 1_000, 20_000);
        Map<String, DonorSignals> donors = Map.of("stable", TYPICAL, "shrinking", shrinking);

        List<String> chosen = ranker(RankWeights.DEFAULTS, 1).choose(List.of("shrinking", "stable"), donors::get, 1,
                SLAB);

        assertThat(chosen).containsExactly("stable");
    }

    @ParameterizedTest
    @EnumSource(Signal.class)
    void aWeightOfZeroMakesItsSignalIrrelevant(Signal signal) {
        DonorRanker<String> ranker = ranker(signal.ignoringIt, 0);
        Map<String, DonorSignals> donors = Map.of("typical", TYPICAL, "better", signal.better);

        double[] scores = ranker.scores(List.of(TYPICAL, signal.better));

        assertThat(scores[0]).isEqualTo(scores[1]);
        Set<String> firsts = new HashSet<>();
        for (long seed = 0; seed < 40; seed++) {
            firsts.add(ranker(signal.ignoringIt, seed).choose(List.of("typical", "better"), donors::get, 1, SLAB)
                    .get(0));
        }
        assertThat(firsts).as("a tie follows the random draw").containsExactlyInAnyOrder("typical", "better");
    }

    @Test
    void scoresFollowTheDocumentedFormula() {
        DonorSignals roomyButShrinking = new DonorSignals(100, -10, 2 * SLAB, 0, 0);
        DonorSignals halfAsRoomyGrowingBusySlow = new DonorSignals(100, 10, SLAB, 200, 100);

        double[] scores = ranker(RankWeights.DEFAULTS, 0).scores(List.of(roomyButShrinking,
                halfAsRoomyGrowingBusySlow));

        // 1·1 + 1·0 − 0.5·0 − 0.5·0 and 1·0.5 + 1·1 − 0.5·1 − 0.5·1
        assertThat(scores[0]).isCloseTo(1.0, within(1e-12));
        assertThat(scores[1]).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void equalGradientsScoreTheMiddleAndZeroMaximaScoreNothing() {
        DonorSignals idle = new DonorSignals(10, 5, SLAB, 0, 0);

        double[] scores = new DonorRanker<String>(4, new RankWeights(0, 1, 1, 1), new SplittableRandom(0))
                .scores(List.of(idle, idle));

        assertThat(scores).containsExactly(0.5, 0.5);
    }

    @Test
    void donorsOfferingLessThanASlabAreNeverChosen() {
        DonorSignals bestButFull = new DonorSignals(256 * GIB, GIB, SLAB - 1, 0, 1_000);
        Map<String, DonorSignals> donors = Map.of("full-1", bestButFull, "full-2", bestButFull, "ok", TYPICAL);

        for (long seed = 0; seed < 20; seed++) {
            assertThat(ranker(RankWeights.DEFAULTS, seed).choose(List.of("full-1", "ok", "full-2"), donors::get, 2,
                    SLAB)).containsExactly("ok");
        }
    }

    @Test
    void askingForMoreCopiesThanEligibleDonorsReturnsEachEligibleOnce() {
        Map<String, DonorSignals> donors = Map.of("a", TYPICAL, "b", Signal.LOAD.better, "c", Signal.LATENCY.better,
                "full", new DonorSignals(GIB, 0, 0, 0, 0));

        List<String> chosen = ranker(RankWeights.DEFAULTS, 3).choose(List.of("a", "b", "full", "c"), donors::get, 8,
                SLAB);

        assertThat(chosen).containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void aDonorListedTwiceIsChosenOnce() {
        Map<String, DonorSignals> donors = Map.of("a", TYPICAL, "b", TYPICAL);

        List<String> chosen = ranker(RankWeights.DEFAULTS, 5).choose(List.of("a", "a", "a", "b"), donors::get, 3,
                SLAB);

        assertThat(chosen).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void moreCopiesThanServerSelectNumStillFillsEveryCopy() {
        Map<String, DonorSignals> donors = Map.of("a", TYPICAL, "b", TYPICAL, "c", TYPICAL);

        List<String> chosen = new DonorRanker<String>(1, RankWeights.DEFAULTS, new SplittableRandom(0))
                .choose(List.of("a", "b", "c"), donors::get, 2, SLAB);

        assertThat(chosen).hasSize(2).doesNotHaveDuplicates();
    }

    @Test
    void noCopiesOrNoDonorsChooseNothing() {
        DonorRanker<String> ranker = ranker(RankWeights.DEFAULTS, 0);

        assertThat(ranker.choose(List.of("a"), d -> TYPICAL, 0, SLAB)).isEmpty();
        assertThat(ranker.choose(List.of(), d -> TYPICAL, 2, SLAB)).isEmpty();
    }

    @Test
    void serverSelectNumBelowOneIsRejected() {
        assertThatThrownBy(() -> new DonorRanker<String>(0, RankWeights.DEFAULTS, new SplittableRandom()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static DonorRanker<String> ranker(RankWeights weights, long seed) {
        return new DonorRanker<>(4, weights, new SplittableRandom(seed));
    }
}
