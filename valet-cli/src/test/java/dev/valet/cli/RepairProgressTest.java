package dev.valet.cli;

import dev.valet.client.engine.EngineStats;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo's wait for re-replication, fed the engine's stats in sequence (a fake engine: the real one cannot be
 * made to sit with 2 of 3 donors dead for a test of what is printed; the demo test runs the real path).
 */
class RepairProgressTest {
    private final List<String> said = new ArrayList<>();

    private static EngineStats stats(int live, int suspected, int degraded, int withoutCopy, long repaired) {
        return new EngineStats(live, 3, 8, degraded, withoutCopy, repaired, repaired * 100, 0, 0, suspected, 0, 0, 0);
    }

    /** Answers the given stats in order, then the last one for ever. */
    private static Supplier<EngineStats> sequence(EngineStats... stats) {
        Deque<EngineStats> left = new ArrayDeque<>(List.of(stats));
        return () -> left.size() > 1 ? left.poll() : left.peek();
    }

    @Test
    void twoCopiesWithOneDonorLeftIsSaidAtOnceAndTheWaitEnds() throws Exception {
        RepairProgress progress = new RepairProgress(2, said::add);

        boolean restored = progress.await(sequence(stats(1, 0, 8, 0, 0)), Duration.ofMinutes(5), Duration.ZERO);

        assertThat(restored).isFalse();
        assertThat(said).containsExactly(
                "re-replication: 1/3 donors live, 8 slabs mapped, 8 short of copies, 0 new copies, 0 pages copied",
                "cannot restore 2 copies of every slab with 1 live donor of 3");
    }

    @Test
    void aSuspectedDonorIsWaitedForAndTheReasonSaidOnlyWhenItChanges() throws Exception {
        RepairProgress progress = new RepairProgress(2, said::add);
        EngineStats waiting = stats(1, 1, 8, 0, 0);

        boolean restored = progress.await(sequence(waiting, waiting, waiting, stats(1, 0, 8, 0, 0)),
                Duration.ofMinutes(5), Duration.ZERO);

        assertThat(restored).isFalse();
        assertThat(said).containsExactly(
                "re-replication: 1/3 donors live, 8 slabs mapped, 8 short of copies, 0 new copies, 0 pages copied",
                "cannot restore 2 copies of every slab with 1 live donor of 3; waiting for the 1 suspected to answer"
                        + " again",
                "cannot restore 2 copies of every slab with 1 live donor of 3");
    }

    @Test
    void aRepairThatRunsSaysOneLinePerChangeNotPerPoll() throws Exception {
        RepairProgress progress = new RepairProgress(2, said::add);
        EngineStats start = stats(2, 0, 4, 0, 0);
        EngineStats half = stats(2, 0, 2, 0, 2);

        boolean restored = progress.await(sequence(start, start, start, half, half, half, half, stats(2, 0, 0, 0, 4)),
                Duration.ofMinutes(5), Duration.ZERO);

        assertThat(restored).isTrue();
        assertThat(said).hasSize(3);
        assertThat(said.get(2)).contains("0 short of copies, 4 new copies");
    }

    @Test
    void aSlabWithNoCopyLeftCannotBeRestored() throws Exception {
        boolean restored = new RepairProgress(2, said::add).await(sequence(stats(2, 0, 1, 1, 0)),
                Duration.ofMinutes(5), Duration.ZERO);

        assertThat(restored).isFalse();
        assertThat(said).last().isEqualTo("cannot restore: 1 slabs have no copy left on any donor");
    }
}
