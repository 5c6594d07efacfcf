package dev.valet.tools.bench;

import dev.valet.tools.workload.EngineLoad;

import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/** The pages a case visits, and how many of them and for how long. */
final class PageOrders {
    private PageOrders() {
    }

    /** Page numbers of a pattern: seq from 0 (wrapping at the end of the span), rand uniform over the span. */
    static LongSupplier pages(BenchPlan.Pattern pattern, long pageCount, SplittableRandom random) {
        if (pattern == BenchPlan.Pattern.rand) {
            return () -> random.nextLong(pageCount);
        }
        long[] next = {0};
        return () -> {
            long p = next[0];
            next[0] = p + 1 == pageCount ? 0 : p + 1;
            return p;
        };
    }

    /** At most {@code count} pages (0: no limit) and none after {@code limitSeconds} (0: no limit). */
    static EngineLoad.RunOrder bounded(LongSupplier pages, long count, double limitSeconds) {
        long deadline = limitSeconds > 0 ? System.nanoTime() + (long) (limitSeconds * 1e9) : Long.MAX_VALUE;
        long max = count > 0 ? count : Long.MAX_VALUE;
        long[] issued = {0};
        return () -> {
            if (issued[0] >= max || System.nanoTime() >= deadline) {
                return -1;
            }
            issued[0]++;
            return pages.getAsLong();
        };
    }
}
