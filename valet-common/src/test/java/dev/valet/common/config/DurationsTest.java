package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(textBlock = """
            250ns,    PT0.00000025S
            250us,    PT0.00025S
            250µs,    PT0.00025S
            500ms,    PT0.5S
            1s,       PT1S
            0s,       PT0S
            2m,       PT2M
            1h,       PT1H
            36h,      PT36H
            '  1s  ', PT1S
            '10 ms',  PT0.01S
            """)
    void parsesWholeNumbersWithAUnit(String text, Duration expected) {
        assertThat(Durations.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            5      | duration '5' has no unit (expected a duration like 500ms, 1s, 2m or 1h: write 5s or 5ms, not a bare number)
            1.5s   | bad duration '1.5s': fractions are not allowed, use a smaller unit: 1500ms rather than 1.5s (expected a duration like 500ms, 1s, 2m or 1h)
            -1s    | bad duration '-1s': durations cannot be negative (expected a duration like 500ms, 1s, 2m or 1h)
            1d     | bad duration '1d' (expected a duration like 500ms, 1s, 2m or 1h; units are ns, us, ms, s, m and h)
            1S     | bad duration '1S' (expected a duration like 500ms, 1s, 2m or 1h; units are ns, us, ms, s, m and h)
            1m30s  | bad duration '1m30s' (expected a duration like 500ms, 1s, 2m or 1h; units are ns, us, ms, s, m and h)
            PT1S   | bad duration 'PT1S' (expected a duration like 500ms, 1s, 2m or 1h; units are ns, us, ms, s, m and h)
            soon   | bad duration 'soon' (expected a duration like 500ms, 1s, 2m or 1h; units are ns, us, ms, s, m and h)
            9223372036854775807h | duration '9223372036854775807h' is too long (expected a duration like 500ms, 1s, 2m or 1h)
            99999999999999999999s | duration '99999999999999999999s' is too long (expected a duration like 500ms, 1s, 2m or 1h)
            """)
    void rejectsBadDurationsSayingWhatWasExpected(String text, String message) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void rejectsEmptyText() {
        assertThatThrownBy(() -> Durations.parse(""))
                .hasMessage("empty duration (expected a duration like 500ms, 1s, 2m or 1h)");
    }

    @ParameterizedTest(name = "{0} prints as {1}")
    @CsvSource(textBlock = """
            PT0S,             0s
            PT1S,             1s
            PT0.5S,           500ms
            PT1.5S,           1500ms
            PT0.00025S,       250us
            PT0.000000001S,   1ns
            PT90S,            90s
            PT2M,             2m
            PT1H,             1h
            PT1H1M,           61m
            PT-2S,            -2s
            """)
    void formatsInTheLargestExactUnit(Duration duration, String text) {
        assertThat(Durations.format(duration)).isEqualTo(text);
    }
}
