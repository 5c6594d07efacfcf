package dev.valet.client.kernel;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How many hardware queues (so how many request slots): the possible CPUs. */
class CpuTopologyTest {
    @Test
    void countsPossibleCpus() {
        assertThat(CpuTopology.countCpus("0-3\n")).isEqualTo(4);
        assertThat(CpuTopology.countCpus("0")).isEqualTo(1);
        assertThat(CpuTopology.countCpus("0-1,4,6-7")).isEqualTo(5);
        assertThat(CpuTopology.possibleCpus()).isGreaterThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }
}
