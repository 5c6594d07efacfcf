package dev.valet.common.config;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

import static org.assertj.core.api.Assertions.assertThat;

class ByteSizePropertyTest {

    @Property
    void printedFormReadsBackToTheSameSize(@ForAll("sizes") long bytes) {
        ByteSize size = ByteSize.ofBytes(bytes);

        assertThat(ByteSize.parse(size.toString())).isEqualTo(size);
    }

    @Property
    void printedFormUsesTheLargestExactUnit(@ForAll("sizes") long bytes) {
        String text = ByteSize.ofBytes(bytes).toString();
        char last = text.charAt(text.length() - 1);
        long number = Long.parseLong(Character.isDigit(last) ? text : text.substring(0, text.length() - 1));

        // The number left over is not divisible by 1024 (else a larger unit would have been used),
        // unless the unit is already the largest, T.
        if (last != 'T' && number != 0) {
            assertThat(number % 1024).isNotZero();
        }
    }

    @Property
    void everySpellingOfAUnitMeansTheSame(@ForAll @LongRange(min = 0, max = 1 << 20) long number,
            @ForAll("unitSpellings") String unit) {
        long multiplier = switch (Character.toUpperCase(unit.charAt(0))) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1L << 40;
        };

        assertThat(ByteSize.parse(number + unit).bytes()).isEqualTo(number * multiplier);
    }

    @Provide
    Arbitrary<Long> sizes() {
        Arbitrary<Long> anyLong = Arbitraries.longs().between(0, Long.MAX_VALUE);
        Arbitrary<Long> roundish = Arbitraries.longs().between(0, 1 << 22)
                .flatMap(n -> Arbitraries.of(0, 10, 20, 30, 40).map(shift -> n << shift));
        return Arbitraries.oneOf(anyLong, roundish);
    }

    @Provide
    Arbitrary<String> unitSpellings() {
        return Arbitraries.of("K", "M", "G", "T")
                .flatMap(unit -> Arbitraries.of("", "i", "iB", "B").map(tail -> unit + tail))
                .flatMap(unit -> Arbitraries.of(unit, unit.toLowerCase(), unit.toUpperCase()));
    }
}
