package dev.valet.donor.memory;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class FreeMemoryTrendTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long MB = 1_000_000L;

    @Test
    void beforeAnySampleThereIsNothing() {
        FreeMemoryTrend t = new FreeMemoryTrend(0.7, 8);
        assertThat(t.smoothedBytes()).isEqualTo(-1);
        assertThat(t.gradientBytesPerSecond()).isZero();
    }

    @Test
    void firstSampleIsTakenAsIsWithNoGradient() {
        FreeMemoryTrend t = new FreeMemoryTrend(0.7, 8);
        t.onSample(123 * SECOND, 8_000_000_000L);
        assertThat(t.smoothedBytes()).isEqualTo(8_000_000_000L);
        assertThat(t.gradientBytesPerSecond()).isZero();
    }

    @Test
    void ewmaWithWeightPointSeven() {
        FreeMemoryTrend t = new FreeMemoryTrend(0.7, 8);
        long[] samples = {1000, 2000, 500, 800, 800, 10};
        // e0 = 1000; e1 = .7*2000 + .3*1000 = 1700; e2 = .7*500 + .3*1700 = 860; e3 = .7*800 + .3*860 = 818;
        // e4 = .7*800 + .3*818 = 805.4 -> 805; e5 = .7*10 + .3*805 = 248.5 -> 249 (Math.round: half up)
        long[] expected = {1000, 1700, 860, 818, 805, 249};
        for (int i = 0; i < samples.length; i++) {
            t.onSample(i * SECOND, samples[i]);
            assertThat(t.smoothedBytes()).as("after sample %d", i).isEqualTo(expected[i]);
        }
        // The gradient spans the whole (not yet full) window: (249 - 1000) / 5 s.
        assertThat(t.gradientBytesPerSecond()).isEqualTo(Math.round((249 - 1000) / 5.0));
    }

    @Test
    void weightOneFollowsTheSamplesExactly() {
        FreeMemoryTrend t = new FreeMemoryTrend(1.0, 4);
        t.onSample(0, 5000);
        t.onSample(SECOND, 3000);
        assertThat(t.smoothedBytes()).isEqualTo(3000);
        assertThat(t.gradientBytesPerSecond()).isEqualTo(-2000);
        t.onSample(3 * SECOND, 9000);
        assertThat(t.gradientBytesPerSecond()).isEqualTo(Math.round((9000 - 5000) / 3.0));
    }

    @Test
    void linearDeclineOfOneHundredMegabytesPerSecond() {
        FreeMemoryTrend t = new FreeMemoryTrend(0.7, 8);
        long start = 20_000 * MB;
        long t0 = 987_654_321L;
        for (int i = 0; i < 40; i++) {
            t.onSample(t0 + i * SECOND, start - i * 100 * MB);
        }
        // Once the EWMA's lag has settled (0.3^n), it falls exactly as fast as the samples.
        assertThat((double) t.gradientBytesPerSecond()).isCloseTo(-100.0 * MB, within(2.0));
        // Lagging 0.3 / 0.7 of a step behind the raw value.
        double lag = 100.0 * MB * 0.3 / 0.7;
        assertThat((double) t.smoothedBytes()).isCloseTo(start - 39 * 100.0 * MB + lag, within(2.0));
    }

    @Test
    void gradientRampsUpWhileTheEwmaCatchesUp() {
        FreeMemoryTrend t = new FreeMemoryTrend(0.7, 8);
        t.onSample(0, 10_000 * MB);
        t.onSample(SECOND, 9_900 * MB);
        // e1 - e0 = 0.7 * -100 MB over one second.
        assertThat(t.gradientBytesPerSecond()).isEqualTo(-70 * MB);
        t.onSample(2 * SECOND, 9_800 * MB);
        // e2 - e0 = -70 MB + (-70 - 21) MB = -161 MB over two seconds.
        assertThat((double) t.gradientBytesPerSecond()).isCloseTo(-80.5 * MB, within(1.0));
    }

    @Test
    void windowRollsOverToTheLastNSamples() {
        FreeMemoryTrend t = new FreeMemoryTrend(1.0, 2);
        long[] values = {0, 100, 300, 600, 1000, 1000};
        long[] gradients = {0, 100, 150, 250, 350, 200};
        for (int i = 0; i < values.length; i++) {
            t.onSample(i * SECOND, values[i]);
            assertThat(t.gradientBytesPerSecond()).as("after sample %d", i).isEqualTo(gradients[i]);
        }
    }

    @Test
    void windowOfOneIsTheLastStep() {
        FreeMemoryTrend t = new FreeMemoryTrend(1.0, 1);
        t.onSample(0, 0);
        t.onSample(2 * SECOND, 1000);
        assertThat(t.gradientBytesPerSecond()).isEqualTo(500);
        t.onSample(3 * SECOND, 700);
        assertThat(t.gradientBytesPerSecond()).isEqualTo(-300);
    }

    @Test
    void samplesAtTheSameInstantGiveNoGradient() {
        FreeMemoryTrend t = new FreeMemoryTrend(1.0, 1);
        t.onSample(5 * SECOND, 1000);
        t.onSample(5 * SECOND, 9000);
        assertThat(t.gradientBytesPerSecond()).isZero();
        assertThat(t.smoothedBytes()).isEqualTo(9000);
    }

    @Test
    void invalidSettingsAreRejected() {
        for (double w : new double[] {0, -0.1, 1.0000001, 2, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY}) {
            assertThatThrownBy(() -> new FreeMemoryTrend(w, 8)).as("weight %s", w)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("EWMA weight");
        }
        assertThatThrownBy(() -> new FreeMemoryTrend(0.7, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("window");
        assertThatThrownBy(() -> new FreeMemoryTrend(0.7, -3)).isInstanceOf(IllegalArgumentException.class);
        new FreeMemoryTrend(1.0, 1);
        new FreeMemoryTrend(Double.MIN_VALUE, 1);
    }
}
