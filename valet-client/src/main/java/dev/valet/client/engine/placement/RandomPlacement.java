package dev.valet.client.engine.placement;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * Copies go to eligible donors drawn uniformly at random (the seeds' "random" policy). Kept as the baseline that
 * rank-based placement has to beat: it spreads slabs evenly by count but ignores how much room each donor has left.
 *
 * @param <D> the caller's donor handle
 */
public final class RandomPlacement<D> implements PlacementPolicy<D> {
    private final RandomGenerator random;

    public RandomPlacement(RandomGenerator random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public List<D> choose(List<D> live, Function<D, DonorSignals> signals, int count, long slabBytes) {
        return RandomDraw.distinct(live, d -> RandomDraw.eligible(signals.apply(d), slabBytes), count, random);
    }
}
