package dev.valet.tools.bench;

import dev.valet.client.transport.WireCounters;
import dev.valet.tools.workload.EngineLoad;
import dev.valet.tools.workload.ThreadCosts;
import org.HdrHistogram.Histogram;

import java.util.function.LongSupplier;

/** A case's measured runs so far, and what is left of its operations and seconds. */
final class CaseTally {
    final Histogram latency = EngineBench.histogram();
    /** Counted around the measured runs only (not the warm-up, not the other side's chunks). */
    final ThreadCosts costs;
    private final long ops;
    private final double seconds;
    long good;
    long errors;
    long issued;
    long nanos;

    /** A case of {@code ops} operations (0: no limit) within {@code seconds} (0: no limit). */
    CaseTally(long ops, double seconds, long[] donorPids, WireCounters wire) {
        this.ops = ops;
        this.seconds = seconds;
        this.costs = new ThreadCosts(donorPids).countWire(wire);
    }

    boolean wants() {
        return (ops == 0 || issued < ops) && (seconds == 0 || nanos < seconds * 1e9 - 1e6);
    }

    /** The next run: {@code chunk} operations (0: all that is left), within the time that is left. */
    EngineLoad.RunOrder next(LongSupplier pages, long chunk) {
        long count = ops == 0 ? chunk : chunk == 0 ? ops - issued : Math.min(chunk, ops - issued);
        return PageOrders.bounded(pages, count, seconds == 0 ? 0 : seconds - nanos / 1e9);
    }

    void add(long goodOps, long failedOps, long runNanos, Histogram runLatency) {
        good += goodOps;
        issued += goodOps + failedOps;
        errors += failedOps;
        nanos += runNanos;
        latency.add(runLatency);
    }

    BenchResults.CaseResult result(String target, BenchPlan.Pattern pattern, BenchPlan.Op op, int depth,
                                   int numReplica, String with) {
        Histogram h = latency;
        return new BenchResults.CaseResult(target, pattern.name(), op.name(), depth, numReplica, with, good, errors,
                nanos / 1e9, nanos == 0 ? 0 : good * 1e9 / nanos, h.getValueAtPercentile(50),
                h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(),
                h.getTotalCount() == 0 ? 0 : h.getMean(), BenchResults.Costs.of(costs.totals(), good + errors));
    }
}
