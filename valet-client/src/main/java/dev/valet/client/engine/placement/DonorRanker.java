package dev.valet.client.engine.placement;

import dev.valet.common.config.RankWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * Rank-based placement (the seeds' policy, with CNetMem's signals): draw a few eligible donors at random, score them,
 * give the copies to the best. Drawing a handful rather than ranking every donor keeps the best-looking donor from
 * receiving every new slab between two STATS, and keeps the cost independent of the cluster size.
 *
 * <p>Scoring. Each signal is normalised across the drawn candidates to 0..1, so the {@link RankWeights} compare
 * directly:
 * <ul>
 *   <li>free = offeredBytes / max (0 when max ≤ 0): the room the donor has left for new slabs, its lending limit
 *       less what it lent, capped by its host's free memory (so donors that share a host, or whose hosts have the
 *       same free memory, still fill evenly);</li>
 *   <li>gradient = (g − min) / (max − min), 0.5 for all when max = min: a donor whose free memory shrinks fastest
 *       scores 0, because it is the next to evict;</li>
 *   <li>load = pageOpsPerSecond / max (0 when max ≤ 0): a busy donor answers slower and takes more with it if
 *       lost;</li>
 *   <li>latency = latencyNanos / max (0 when max ≤ 0): every page fault on the slab pays it.</li>
 * </ul>
 * score = w<sub>free</sub>·free + w<sub>gradient</sub>·gradient − w<sub>load</sub>·load
 * − w<sub>latency</sub>·latency. Negative free memory, load or latency (unknown) count as 0. Equal scores keep the
 * random draw order.
 *
 * @param <D> the caller's donor handle
 */
public final class DonorRanker<D> implements PlacementPolicy<D> {
    private final int serverSelectNum;
    private final RankWeights weights;
    private final RandomGenerator random;

    /**
     * @param serverSelectNum candidates drawn per placement; at least 1 (more are drawn when a placement asks for
     *                        more copies than this)
     * @param weights         how much each signal counts
     * @param random          the source of the draws
     */
    public DonorRanker(int serverSelectNum, RankWeights weights, RandomGenerator random) {
        if (serverSelectNum < 1) {
            throw new IllegalArgumentException("serverSelectNum " + serverSelectNum + " below 1");
        }
        this.serverSelectNum = serverSelectNum;
        this.weights = Objects.requireNonNull(weights, "weights");
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public List<D> choose(List<D> live, Function<D, DonorSignals> signals, int count, long slabBytes) {
        if (count <= 0) {
            return List.of();
        }
        // One look at each drawn donor's signals: the snapshot that made it eligible is the one it is scored on.
        List<DonorSignals> candidateSignals = new ArrayList<>();
        List<D> candidates = RandomDraw.distinct(live, d -> {
            DonorSignals s = signals.apply(d);
            boolean eligible = RandomDraw.eligible(s, slabBytes);
            if (eligible) {
                candidateSignals.add(s);
            }
            return eligible;
        }, Math.max(serverSelectNum, count), random);
        int[] order = bestFirst(scores(candidateSignals));
        List<D> chosen = new ArrayList<>(Math.min(count, order.length));
        for (int i = 0; i < order.length && i < count; i++) {
            chosen.add(candidates.get(order[i]));
        }
        return chosen;
    }

    /** The score of each donor in {@code candidates}, normalised across them as the class comment describes. */
    public double[] scores(List<DonorSignals> candidates) {
        int n = candidates.size();
        long maxFree = 0;
        long minGradient = Long.MAX_VALUE;
        long maxGradient = Long.MIN_VALUE;
        double maxLoad = 0;
        long maxLatency = 0;
        for (DonorSignals s : candidates) {
            maxFree = Math.max(maxFree, s.offeredBytes());
            minGradient = Math.min(minGradient, s.freeMemoryGradient());
            maxGradient = Math.max(maxGradient, s.freeMemoryGradient());
            maxLoad = Math.max(maxLoad, s.pageOpsPerSecond());
            maxLatency = Math.max(maxLatency, s.latencyNanos());
        }
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) {
            DonorSignals s = candidates.get(i);
            double free = share(s.offeredBytes(), maxFree);
            double gradient = maxGradient == minGradient ? 0.5
                    : (double) (s.freeMemoryGradient() - minGradient) / ((double) maxGradient - minGradient);
            double load = share(s.pageOpsPerSecond(), maxLoad);
            double latency = share(s.latencyNanos(), maxLatency);
            scores[i] = weights.freeMemory() * free + weights.freeMemoryGradient() * gradient
                    - weights.load() * load - weights.latency() * latency;
        }
        return scores;
    }

    private static double share(double value, double max) {
        return max > 0 && value > 0 ? value / max : 0;
    }

    /** Indices of {@code scores}, highest score first; equal scores keep their order (stable insertion sort). */
    private static int[] bestFirst(double[] scores) {
        int[] order = new int[scores.length];
        for (int i = 0; i < order.length; i++) {
            int j = i;
            while (j > 0 && scores[order[j - 1]] < scores[i]) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
        return order;
    }
}
