package dev.valet.client.tier;

import java.util.function.Supplier;

/**
 * Spare records of one kind (runs, waiting writes, partly-hit reads), made up front and taken and given back on the
 * I/O path without allocating: only more records out at once than ever before makes a new one, and the stack that
 * keeps them then doubles when they come back. Not thread safe: callers hold the tier's lock.
 *
 * @param <T> the record
 */
final class RecordPool<T> {
    private final Supplier<T> factory;
    private Object[] spare;
    private int count;

    RecordPool(Supplier<T> factory, int initial) {
        this.factory = factory;
        this.spare = new Object[initial];
        for (int i = 0; i < initial; i++) {
            spare[count++] = factory.get();
        }
    }

    /** A spare record, or a new one when none is left. */
    @SuppressWarnings("unchecked")
    T take() {
        return count > 0 ? (T) spare[--count] : factory.get();
    }

    /** Keeps {@code record} for the next {@link #take}; its holder has cleared what it referred to. */
    void give(T record) {
        if (count == spare.length) {
            Object[] grown = new Object[2 * spare.length];
            System.arraycopy(spare, 0, grown, 0, count);
            spare = grown;
        }
        spare[count++] = record;
    }
}
