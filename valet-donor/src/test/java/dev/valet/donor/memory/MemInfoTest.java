package dev.valet.donor.memory;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemInfoTest {
    private static final String MEMINFO = """
            MemTotal:       24684000 kB
            MemFree:        24297252 kB
            MemAvailable:   24341240 kB
            Buffers:           12464 kB
            Cached:           254988 kB
            SwapCached:            0 kB
            Active:            97128 kB
            Inactive:         204928 kB
            SwapTotal:             0 kB
            SwapFree:              0 kB
            HugePages_Total:       0
            Hugepagesize:       2048 kB
            DirectMap1G:    23068672 kB
            """;

    @Test
    void parsesMemAvailableInKibibytes() {
        assertThat(MemInfo.parseAvailable(MEMINFO)).isEqualTo(24341240L * 1024);
    }

    @Test
    void takesTheMemAvailableLineNotASimilarOne() {
        String text = "MemFree: 1 kB\nMemAvailableish: 2 kB\nMemAvailable: 3 kB\n";
        assertThat(MemInfo.parseAvailable(text)).isEqualTo(3 * 1024);
    }

    @Test
    void aValueWithoutAUnitIsBytes() {
        assertThat(MemInfo.parseAvailable("MemAvailable: 4096\n")).isEqualTo(4096);
    }

    @Test
    void aMissingLineIsAnError() {
        String old = MEMINFO.replace("MemAvailable:   24341240 kB\n", "");
        assertThatThrownBy(() -> MemInfo.parseAvailable(old)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("MemAvailable");
        assertThatThrownBy(() -> MemInfo.parseAvailable("")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void thisMachineHasSomeMemoryAvailable() {
        long available = MemInfo.system().availableBytes();
        assertThat(available).isPositive();
        assertThat(available % 1024).as("reported in kB").isZero();
    }
}
