package dev.valet.common.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An amount of memory in bytes, as written in configuration and on the command line: {@code 4096}, {@code 64K},
 * {@code 512M}, {@code 8G}, {@code 1T}.
 *
 * <p>Every unit is binary (1K = 1024 bytes) because every size Valet deals in is RAM, pages and slabs, where
 * decimal units would only produce sizes that are not page multiples. The suffix may be followed by {@code i},
 * {@code iB} or {@code B} and any letter case is accepted, so {@code 8G}, {@code 8g}, {@code 8GiB} and {@code 8GB}
 * all mean 8 × 2<sup>30</sup> bytes, as they do for {@code free -h} and the JVM's {@code -Xmx}.
 *
 * @param bytes the size in bytes, never negative
 */
public record ByteSize(long bytes) implements Comparable<ByteSize> {

    /** What a size looks like; ends every parse error. */
    static final String EXPECTED = "a size like 4096, 64K, 512M or 8G";

    private static final long KIB = 1L << 10;
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final long TIB = 1L << 40;
    private static final Pattern SYNTAX =
            Pattern.compile("([0-9]+)\\s*(?:([kmgt])(?:i|ib|b)?|b)?", Pattern.CASE_INSENSITIVE);

    /** @throws IllegalArgumentException if {@code bytes} is negative */
    public ByteSize {
        if (bytes < 0) {
            throw new IllegalArgumentException("a size cannot be negative, got " + bytes + " bytes");
        }
    }

    public static ByteSize ofBytes(long bytes) {
        return new ByteSize(bytes);
    }

    public static ByteSize ofKibibytes(long kibibytes) {
        return new ByteSize(Math.multiplyExact(kibibytes, KIB));
    }

    public static ByteSize ofMebibytes(long mebibytes) {
        return new ByteSize(Math.multiplyExact(mebibytes, MIB));
    }

    public static ByteSize ofGibibytes(long gibibytes) {
        return new ByteSize(Math.multiplyExact(gibibytes, GIB));
    }

    /**
     * Reads a whole number of bytes with an optional binary unit: {@code 4096}, {@code 64K}, {@code 64KiB},
     * {@code 512M}, {@code 8G}, {@code 8GB}, {@code 1T}. Surrounding whitespace is ignored.
     *
     * @throws IllegalArgumentException for negatives, fractions, unknown units, sizes beyond 2<sup>63</sup>-1
     *                                  bytes and anything else, quoting the text and saying what was expected
     */
    public static ByteSize parse(String text) {
        String size = text == null ? "" : text.strip();
        if (size.isEmpty()) {
            throw new IllegalArgumentException("empty size (expected " + EXPECTED + ")");
        }
        Matcher matcher = SYNTAX.matcher(size);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("bad size '" + size + "' (expected " + EXPECTED + whyNot(size) + ")");
        }
        String unit = matcher.group(2);
        long multiplier = unit == null ? 1 : switch (unit.toUpperCase(Locale.ROOT)) {
            case "K" -> KIB;
            case "M" -> MIB;
            case "G" -> GIB;
            default -> TIB;
        };
        try {
            return new ByteSize(Math.multiplyExact(Long.parseLong(matcher.group(1)), multiplier));
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("size '" + size + "' is too large (at most "
                    + Long.MAX_VALUE + " bytes)", e);
        }
    }

    /** A hint for the commonest mistakes, to follow the list of examples. */
    private static String whyNot(String size) {
        if (size.startsWith("-")) {
            return "; sizes cannot be negative";
        }
        if (size.matches("[0-9]*[.,][0-9]*.*")) {
            return "; fractions are not allowed, use a smaller unit: 1536M rather than 1.5G";
        }
        if (size.matches("[0-9]+\\s*[a-zA-Z]+")) {
            return "; units are K, M, G and T";
        }
        return "";
    }

    /** Whether this size is a whole number of {@code unit}s, for example of 4096-byte pages. */
    public boolean isMultipleOf(long unit) {
        return bytes % unit == 0;
    }

    @Override
    public int compareTo(ByteSize other) {
        return Long.compare(bytes, other.bytes);
    }

    /** The shortest exact form, which {@link #parse} reads back: {@code 8G}, {@code 1536M}, {@code 4097}. */
    @Override
    public String toString() {
        if (bytes != 0) {
            if (bytes % TIB == 0) {
                return bytes / TIB + "T";
            }
            if (bytes % GIB == 0) {
                return bytes / GIB + "G";
            }
            if (bytes % MIB == 0) {
                return bytes / MIB + "M";
            }
            if (bytes % KIB == 0) {
                return bytes / KIB + "K";
            }
        }
        return Long.toString(bytes);
    }
}
