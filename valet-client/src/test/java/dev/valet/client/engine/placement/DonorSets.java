package dev.valet.client.engine.placement;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ArbitrarySupplier;
import net.jqwik.api.Combinators;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Random donor sets for property tests: donor {@code i} is the index {@code i} into the list of its signals. Values
 * come from narrow ranges on purpose, so that ties, equal gradients and donors just short of a slab come up often.
 */
final class DonorSets implements ArbitrarySupplier<List<DonorSignals>> {
    static final long SLAB = 1L << 30;

    @Override
    public Arbitrary<List<DonorSignals>> get() {
        Arbitrary<DonorSignals> donor = Combinators.combine(
                Arbitraries.longs().between(-1, 8).map(n -> n * SLAB),
                Arbitraries.longs().between(-3, 3).map(n -> n * SLAB / 8),
                Arbitraries.longs().between(0, 3).map(n -> n * SLAB - n % 2),
                Arbitraries.integers().between(0, 4).map(n -> n * 500.0),
                Arbitraries.longs().between(0, 4).map(n -> n * 10_000)).as(DonorSignals::new);
        return donor.list().ofMaxSize(12);
    }

    static List<Integer> donors(List<DonorSignals> signals) {
        return IntStream.range(0, signals.size()).boxed().toList();
    }

    static List<Integer> eligible(List<DonorSignals> signals) {
        List<Integer> eligible = new ArrayList<>();
        for (int i = 0; i < signals.size(); i++) {
            if (signals.get(i).offeredBytes() >= SLAB) {
                eligible.add(i);
            }
        }
        return eligible;
    }
}
