package dev.valet.tools.bench;

import dev.valet.common.config.EncryptionMode;

import java.util.List;

/**
 * What {@link EngineBench} measures: every combination of pattern × operation × queue depth × copies per slab
 * × page encryption,
 * 4 KiB single-page operations over a span of {@code pageCount} pages, and beside each depth-1 case the bare
 * reference. The command that fills it in has checked it (and names its flags when something is wrong).
 *
 * @param pageCount      pages in each engine's swap space (and the reference's span)
 * @param slabBytes      slab size
 * @param patterns       access patterns
 * @param operations     operations, writes first
 * @param depths         queue depths (single-page operations in flight)
 * @param replicas       copies per slab; one engine each
 * @param opsPerCase     measured operations per case (0: bounded by {@code secondsPerCase} only)
 * @param secondsPerCase longest measured run per case (0: bounded by {@code opsPerCase} only)
 * @param warmupOps      operations run, not recorded, before each case and once for all in a warm-up round
 * @param reference      whether to measure the bare-transport reference beside the depth-1 cases
 * @param seed           seed of the random pages and of the page contents
 * @param encryption     page encryption modes; one engine each per number of copies, in this order (the bare
 *                       reference runs beside the first mode's engines only)
 */
public record BenchPlan(long pageCount, long slabBytes, List<Pattern> patterns, List<Op> operations,
                        List<Integer> depths, List<Integer> replicas, long opsPerCase, double secondsPerCase,
                        long warmupOps, boolean reference, long seed, List<EncryptionMode> encryption) {
    /** Access pattern: consecutive pages, or uniformly random pages of the span. */
    public enum Pattern { seq, rand }

    /** What one operation does. */
    public enum Op { write, read }

    public BenchPlan {
        patterns = List.copyOf(patterns);
        operations = List.copyOf(operations);
        depths = List.copyOf(depths);
        replicas = List.copyOf(replicas);
        encryption = List.copyOf(encryption);
    }

    /** Whether the bare reference runs: asked for, and some case runs at depth 1. */
    boolean measuresReference() {
        return reference && depths.contains(1);
    }
}
