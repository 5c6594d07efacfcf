package dev.valet.client.engine.placement;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * For each copy, two distinct eligible donors not yet chosen are drawn at random and the one with more free memory
 * wins (ties: the first drawn). The classic load-balancing reference: nearly as cheap as random, much less skewed,
 * but blind to trend, load and latency.
 *
 * @param <D> the caller's donor handle
 */
public final class PowerOfTwoChoices<D> implements PlacementPolicy<D> {
    private final RandomGenerator random;

    public PowerOfTwoChoices(RandomGenerator random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public List<D> choose(List<D> live, Function<D, DonorSignals> signals, int count, long slabBytes) {
        List<D> chosen = new ArrayList<>(Math.max(count, 0));
        while (chosen.size() < count) {
            List<DonorSignals> pairSignals = new ArrayList<>(2);
            List<D> pair = RandomDraw.distinct(live, d -> {
                if (chosen.contains(d)) {
                    return false;
                }
                DonorSignals s = signals.apply(d);
                boolean eligible = RandomDraw.eligible(s, slabBytes);
                if (eligible) {
                    pairSignals.add(s);
                }
                return eligible;
            }, 2, random);
            if (pair.isEmpty()) {
                break;
            }
            boolean secondWins = pair.size() == 2
                    && pairSignals.get(1).freeMemoryBytes() > pairSignals.get(0).freeMemoryBytes();
            chosen.add(pair.get(secondWins ? 1 : 0));
        }
        return chosen;
    }
}
