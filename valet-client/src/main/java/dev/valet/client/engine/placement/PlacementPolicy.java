package dev.valet.client.engine.placement;

import java.util.List;
import java.util.function.Function;

/**
 * Chooses the donors that get the copies of a new slab.
 *
 * @param <D> the caller's donor handle
 */
public interface PlacementPolicy<D> {
    /**
     * Chooses up to {@code count} distinct donors among {@code live} for a slab of {@code slabBytes}, best first.
     * Donors offering less than {@code slabBytes} are not eligible. Returns fewer than {@code count} (possibly none)
     * when not enough donors are eligible; never the same donor twice.
     */
    List<D> choose(List<D> live, Function<D, DonorSignals> signals, int count, long slabBytes);
}
