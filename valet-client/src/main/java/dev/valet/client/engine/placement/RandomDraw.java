package dev.valet.client.engine.placement;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * Uniform draws without replacement, shared by the placement policies. The draw is a lazy Fisher-Yates shuffle of a
 * copy of the list, stopping as soon as enough accepted elements are found: every accepted subset of a given size is
 * equally likely, in a uniformly random order, and only the elements actually drawn are tested.
 */
final class RandomDraw {
    private RandomDraw() {
    }

    /**
     * Up to {@code max} distinct elements of {@code from} (by {@code equals}) that {@code accept} allows, in the
     * order they were drawn; fewer when not enough are accepted. {@code from} is not modified. {@code accept} is
     * asked about each distinct element at most once, in draw order, so a caller may note what it accepted.
     */
    static <D> List<D> distinct(List<D> from, Predicate<D> accept, int max, RandomGenerator random) {
        List<D> drawn = new ArrayList<>(Math.min(Math.max(max, 0), from.size()));
        if (max <= 0) {
            return drawn;
        }
        List<D> pool = new ArrayList<>(from);
        for (int i = 0; i < pool.size() && drawn.size() < max; i++) {
            int j = i + random.nextInt(pool.size() - i);
            D d = pool.set(j, pool.get(i));
            if (!drawn.contains(d) && accept.test(d)) {
                drawn.add(d);
            }
        }
        return drawn;
    }

    /** Whether a donor can take a slab of {@code slabBytes}. */
    static boolean eligible(DonorSignals s, long slabBytes) {
        return s.offeredBytes() >= slabBytes;
    }
}
