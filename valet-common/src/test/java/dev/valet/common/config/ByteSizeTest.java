package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ByteSizeTest {

    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource(textBlock = """
            0,            0
            4096,         4096
            4096B,        4096
            1K,           1024
            64K,          65536
            64KiB,        65536
            64kb,         65536
            512M,         536870912
            512Mi,        536870912
            8G,           8589934592
            8g,           8589934592
            8GiB,         8589934592
            8GB,          8589934592
            '8 G',        8589934592
            '  8G  ',     8589934592
            1T,           1099511627776
            8388607T,     9223370937343148032
            """)
    void parsesBinaryUnits(String text, long bytes) {
        assertThat(ByteSize.parse(text).bytes()).isEqualTo(bytes);
    }

    @ParameterizedTest(name = "{0} bytes prints as {1}")
    @CsvSource(textBlock = """
            0,                   0
            1,                   1
            4097,                4097
            1024,                1K
            1536,                1536
            1572864,             1536K
            1610612736,          1536M
            8589934592,          8G
            1099511627776,       1T
            9223372036854775807, 9223372036854775807
            """)
    void printsTheShortestExactForm(long bytes, String text) {
        assertThat(ByteSize.ofBytes(bytes)).hasToString(text);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            -1        | bad size '-1' (expected a size like 4096, 64K, 512M or 8G; sizes cannot be negative)
            1.5G      | bad size '1.5G' (expected a size like 4096, 64K, 512M or 8G; fractions are not allowed, use a smaller unit: 1536M rather than 1.5G)
            8X        | bad size '8X' (expected a size like 4096, 64K, 512M or 8G; units are K, M, G and T)
            8P        | bad size '8P' (expected a size like 4096, 64K, 512M or 8G; units are K, M, G and T)
            8GiBs     | bad size '8GiBs' (expected a size like 4096, 64K, 512M or 8G; units are K, M, G and T)
            G         | bad size 'G' (expected a size like 4096, 64K, 512M or 8G)
            lots      | bad size 'lots' (expected a size like 4096, 64K, 512M or 8G)
            0x1000    | bad size '0x1000' (expected a size like 4096, 64K, 512M or 8G)
            8388608T  | size '8388608T' is too large (at most 9223372036854775807 bytes)
            99999999999999999999 | size '99999999999999999999' is too large (at most 9223372036854775807 bytes)
            """)
    void rejectsBadSizesSayingWhatWasExpected(String text, String message) {
        assertThatThrownBy(() -> ByteSize.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void rejectsEmptyText() {
        assertThatThrownBy(() -> ByteSize.parse("  "))
                .hasMessage("empty size (expected a size like 4096, 64K, 512M or 8G)");
        assertThatThrownBy(() -> ByteSize.parse(null))
                .hasMessage("empty size (expected a size like 4096, 64K, 512M or 8G)");
    }

    @Test
    void cannotBeNegative() {
        assertThatThrownBy(() -> ByteSize.ofBytes(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a size cannot be negative, got -1 bytes");
    }

    @Test
    void factoriesUseBinaryUnitsAndRefuseOverflow() {
        assertThat(ByteSize.ofKibibytes(64)).isEqualTo(ByteSize.parse("64K"));
        assertThat(ByteSize.ofMebibytes(3)).isEqualTo(ByteSize.parse("3M"));
        assertThat(ByteSize.ofGibibytes(2)).isEqualTo(ByteSize.parse("2G"));
        assertThatThrownBy(() -> ByteSize.ofGibibytes(Long.MAX_VALUE)).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void comparesAndChecksMultiples() {
        assertThat(ByteSize.parse("1M")).isGreaterThan(ByteSize.parse("1023K"));
        assertThat(ByteSize.parse("8K").isMultipleOf(4096)).isTrue();
        assertThat(ByteSize.parse("4097").isMultipleOf(4096)).isFalse();
    }
}
