package dev.valet.tools.bench;

/**
 * Where a benchmark shows how far it is: one bar per phase (a prefill, the warm-up round, a case), stepped as
 * pages or operations complete. The command draws them; the benchmark only counts.
 */
@FunctionalInterface
public interface BenchProgress {
    /** Starts a phase of {@code total} units ({@code -1}: unknown). */
    Phase start(String task, long total);

    /** One phase's bar, closed when the phase ends. */
    @FunctionalInterface
    interface Phase extends AutoCloseable {
        /** {@code units} more are done; called from whichever thread saw them complete. */
        void step(long units);

        @Override
        default void close() {
        }
    }
}
