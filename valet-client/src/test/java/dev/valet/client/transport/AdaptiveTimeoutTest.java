package dev.valet.client.transport;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A request timeout that grows for a slow peer, never below the configured one, never above its ceiling. */
class AdaptiveTimeoutTest {
    private static final long MS = 1_000_000L;

    @Test
    void aFastPeerKeepsTheConfiguredTimeout() {
        AdaptiveTimeout t = new AdaptiveTimeout(Duration.ofSeconds(5));
        assertThat(t.millis()).isEqualTo(5000);
        for (int i = 0; i < 100; i++) {
            t.observe(200_000); // 0.2 ms round trips
        }
        assertThat(t.millis()).isEqualTo(5000);
    }

    @Test
    void aSlowPeerGetsMoreTimeUpToTheCeiling() {
        AdaptiveTimeout t = new AdaptiveTimeout(Duration.ofSeconds(1));
        for (int i = 0; i < 50; i++) {
            t.observe(400 * MS); // a busy donor: 400 ms per answer
        }
        assertThat(t.millis()).isGreaterThan(3000).isLessThanOrEqualTo(8000);
        for (int i = 0; i < 50; i++) {
            t.observe(10_000 * MS); // far slower than the ceiling allows
        }
        assertThat(t.millis()).isEqualTo(1000L * AdaptiveTimeout.CEILING_FACTOR);
    }

    @Test
    void oneSlowAnswerAmongFastOnesRaisesTheTimeoutInsteadOfTimingOutTheNext() {
        AdaptiveTimeout t = new AdaptiveTimeout(Duration.ofMillis(100));
        for (int i = 0; i < 20; i++) {
            t.observe(10 * MS);
        }
        long before = t.nanos();
        t.observe(90 * MS); // just under the timeout
        assertThat(t.nanos()).isGreaterThan(before);
        assertThat(t.millis()).isGreaterThan(100);
    }

    @Test
    void itComesBackDownWhenThePeerIsFastAgain() {
        AdaptiveTimeout t = new AdaptiveTimeout(Duration.ofSeconds(1));
        for (int i = 0; i < 30; i++) {
            t.observe(800 * MS);
        }
        assertThat(t.millis()).isGreaterThan(1000);
        for (int i = 0; i < 200; i++) {
            t.observe(MS);
        }
        assertThat(t.millis()).isEqualTo(1000);
    }
}
