package dev.valet.common.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and prints durations the way configuration files and command-line flags write them: a whole number and
 * a unit, {@code 250us}, {@code 500ms}, {@code 1s}, {@code 2m}, {@code 1h}.
 *
 * <p>The unit is required: a bare {@code 5} could mean seconds to one reader and milliseconds to the next, and
 * timeouts that are a thousand times off fail in confusing ways. Units are case-sensitive so that {@code m}
 * (minutes) and {@code ms} cannot be confused with anything else.
 */
public final class Durations {

    /** What a duration looks like; ends every parse error. */
    static final String EXPECTED = "a duration like 500ms, 1s, 2m or 1h";

    private static final String UNITS = "; units are ns, us, ms, s, m and h";

    private static final Pattern SYNTAX = Pattern.compile("([0-9]+)\\s*(ns|us|µs|ms|s|m|h)");

    private Durations() {
    }

    /**
     * Reads a non-negative whole number followed by one of {@code ns}, {@code us} (or {@code µs}), {@code ms},
     * {@code s}, {@code m}, {@code h}. Surrounding whitespace is ignored.
     *
     * @throws IllegalArgumentException for a missing or unknown unit, negatives, fractions, overflow and anything
     *                                  else, quoting the text and saying what was expected
     */
    public static Duration parse(String text) {
        String duration = text == null ? "" : text.strip();
        if (duration.isEmpty()) {
            throw new IllegalArgumentException("empty duration (expected " + EXPECTED + ")");
        }
        Matcher matcher = SYNTAX.matcher(duration);
        if (!matcher.matches()) {
            throw new IllegalArgumentException(problemWith(duration));
        }
        ChronoUnit unit = switch (matcher.group(2)) {
            case "ns" -> ChronoUnit.NANOS;
            case "us", "µs" -> ChronoUnit.MICROS;
            case "ms" -> ChronoUnit.MILLIS;
            case "s" -> ChronoUnit.SECONDS;
            case "m" -> ChronoUnit.MINUTES;
            default -> ChronoUnit.HOURS;
        };
        try {
            return Duration.of(Long.parseLong(matcher.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("duration '" + duration + "' is too long (expected " + EXPECTED + ")",
                    e);
        }
    }

    private static String problemWith(String duration) {
        if (duration.matches("[0-9]+")) {
            return "duration '" + duration + "' has no unit (expected " + EXPECTED + ": write " + duration
                    + "s or " + duration + "ms, not a bare number)";
        }
        if (duration.startsWith("-")) {
            return "bad duration '" + duration + "': durations cannot be negative (expected " + EXPECTED + ")";
        }
        if (duration.matches("[0-9]*[.,][0-9]*\\s*[a-zµ]*")) {
            return "bad duration '" + duration + "': fractions are not allowed, use a smaller unit: 1500ms rather"
                    + " than 1.5s (expected " + EXPECTED + ")";
        }
        return "bad duration '" + duration + "' (expected " + EXPECTED + UNITS + ")";
    }

    /**
     * The shortest exact form in the largest unit that divides it, which {@link #parse} reads back:
     * {@code 1s}, {@code 1500ms}, {@code 2m}, {@code 0s}. A negative duration, which {@link #parse} never
     * returns, is printed with a leading minus sign.
     */
    public static String format(Duration duration) {
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        long seconds = duration.getSeconds();
        int nanos = duration.getNano();
        if (nanos == 0) {
            if (seconds == 0) {
                return "0s";
            }
            if (seconds % 3600 == 0) {
                return seconds / 3600 + "h";
            }
            return seconds % 60 == 0 ? seconds / 60 + "m" : seconds + "s";
        }
        try {
            if (nanos % 1_000_000 == 0) {
                return Math.addExact(Math.multiplyExact(seconds, 1000L), nanos / 1_000_000) + "ms";
            }
            if (nanos % 1_000 == 0) {
                return Math.addExact(Math.multiplyExact(seconds, 1_000_000L), nanos / 1_000) + "us";
            }
            return Math.addExact(Math.multiplyExact(seconds, 1_000_000_000L), nanos) + "ns";
        } catch (ArithmeticException tooLongForSmallUnits) {
            return duration.toString();
        }
    }
}
