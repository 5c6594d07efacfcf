package dev.valet.client.tier;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.LongUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The read-ahead's predictions on streams of swap-ins, as hit rates: each access is a hit if an earlier prediction
 * put its page in a cache of {@value #CACHE} pages. Each stream is run through Leap's detector (one stream,
 * {@code maxLag} 1) and through the tier's (up to {@link ReadAhead#MAX_STREAMS} interleaved streams); the rates
 * are printed.
 */
class TrendDetectorTest {
    private static final int CACHE = 256;
    private static final int ACCESSES = 20_000;
    private static final int WINDOW = 8;
    private static final int MAX_PAGES = 32;

    /** The fraction of {@code ACCESSES} accesses, page {@code stream(i)} for the i-th, that were predicted. */
    private static double hitRate(int maxLag, LongUnaryOperator stream) {
        TrendDetector detector = new TrendDetector(WINDOW, MAX_PAGES, maxLag);
        Map<Long, Boolean> cache = new LinkedHashMap<>(CACHE, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
                return size() > CACHE;
            }
        };
        int hits = 0;
        for (int i = 0; i < ACCESSES; i++) {
            long page = stream.applyAsLong(i);
            boolean hit = cache.remove(page) != null;
            hits += hit ? 1 : 0;
            int ahead = detector.record(page, 1, hit, !hit);
            for (int k = 0; k < ahead; k++) {
                cache.putIfAbsent(detector.predicted(k), Boolean.TRUE);
            }
        }
        return (double) hits / ACCESSES;
    }

    private static double[] rates(String name, LongUnaryOperator stream) {
        double leap = hitRate(1, stream);
        double tier = hitRate(ReadAhead.MAX_STREAMS, stream);
        System.out.printf("read-ahead hit rate, %-28s Leap %5.1f%%   tier %5.1f%%%n", name + ":", 100 * leap,
                100 * tier);
        return new double[] {leap, tier};
    }

    @Test
    void sequentialStridedAndReversedStreamsAreReadAhead() {
        double[] sequential = rates("sequential", i -> 5000 + i);
        double[] strided = rates("strided (every 7th page)", i -> 7L * i);
        double[] reversed = rates("reversed", i -> 1_000_000 - i);

        for (double[] rate : new double[][] {sequential, strided, reversed}) {
            assertThat(rate[0]).isGreaterThan(0.95);
            assertThat(rate[1]).isGreaterThan(0.95);
        }
    }

    @Test
    void randomSwapInsAreNotReadAhead() {
        Random random = new Random(42);
        long[] pages = random.longs(ACCESSES, 0, 1 << 21).toArray();

        double[] rate = rates("random", i -> pages[(int) i]);

        assertThat(rate[0]).isLessThan(0.01);
        assertThat(rate[1]).isLessThan(0.01);
    }

    @Test
    void interleavedStreamsAreFollowedBeyondLeap() {
        double[] two = rates("two interleaved sequential", i -> i % 2 == 0 ? i / 2 : 1_000_000 + i / 2);
        double[] three = rates("three interleaved, strided", i -> (i % 3) * 1_000_000 + 3 * (i / 3));
        long[] bases = {0, 5_000_000, 2_000_000};
        double[] uneven = rates("three interleaved, uneven", i -> bases[(int) (i % 3)] + i / 3);

        for (double[] rate : new double[][] {two, three, uneven}) {
            assertThat(rate[1]).isGreaterThan(0.95);
            assertThat(rate[0]).as("Leap's single stream").isLessThan(0.7);
        }
    }

    @Test
    void aSequentialStreamWithNoiseIsStillReadAhead() {
        Random random = new Random(7);
        long[] pages = new long[ACCESSES];
        long next = 0;
        for (int i = 0; i < ACCESSES; i++) {
            pages[i] = random.nextInt(10) < 2 ? random.nextInt(1 << 21) + (1L << 22) : next++;
        }

        double[] rate = rates("sequential, 20% random", i -> pages[(int) i]);

        assertThat(rate[0]).isGreaterThan(0.6);
        assertThat(rate[1]).isGreaterThan(0.6);
    }

    @Test
    void theWindowGrowsWhileReadAheadIsUsedAndShrinksOnMisses() {
        TrendDetector detector = new TrendDetector(WINDOW, MAX_PAGES, 1);
        int ahead = 0;
        for (long page = 0; page < 6; page++) {
            ahead = detector.record(page, 1, false, true);
        }
        assertThat(detector.stride()).isEqualTo(1);
        assertThat(ahead).isEqualTo(1);
        for (long page = 6; page < 16; page++) {
            ahead = detector.record(page, 1, true, false);
        }
        assertThat(ahead).isEqualTo(MAX_PAGES);
        assertThat(detector.predicted(0)).isEqualTo(16);
        assertThat(detector.predicted(MAX_PAGES - 1)).isEqualTo(15 + MAX_PAGES);
        assertThat(detector.record(16, 1, false, true)).isEqualTo(MAX_PAGES / 2);
    }

    @Test
    void multiPageSwapInsPredictWholeRuns() {
        TrendDetector detector = new TrendDetector(WINDOW, MAX_PAGES, 1);
        int ahead = 0;
        for (long page = 0; page < 80; page += 8) {
            ahead = detector.record(page, 8, true, false);
        }

        assertThat(detector.stride()).isEqualTo(8);
        assertThat(ahead).isEqualTo(MAX_PAGES);
        for (int i = 0; i < 16; i++) {
            assertThat(detector.predicted(i)).isEqualTo(80 + i);
        }
    }

    @Test
    void noTrendBeforeEnoughSwapInsOrOnRepeats() {
        TrendDetector detector = new TrendDetector(WINDOW, MAX_PAGES, 2);
        assertThat(detector.record(10, 1, false, true)).isZero();
        assertThat(detector.record(11, 1, false, true)).isZero();
        for (int i = 0; i < 20; i++) {
            assertThat(detector.record(99, 1, false, true)).isZero();
        }
        assertThatThrownBy(() -> new TrendDetector(1, 8, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
