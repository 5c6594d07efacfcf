package dev.valet.common.config;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class DurationsPropertyTest {

    @Property
    void formattedNanosecondsReadBack(@ForAll @LongRange(min = 0) long nanos) {
        Duration duration = Duration.ofNanos(nanos);

        assertThat(Durations.parse(Durations.format(duration))).isEqualTo(duration);
    }

    @Property
    void formattedSecondsReadBack(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 1000) long seconds) {
        Duration duration = Duration.ofSeconds(seconds);

        assertThat(Durations.parse(Durations.format(duration))).isEqualTo(duration);
    }
}
