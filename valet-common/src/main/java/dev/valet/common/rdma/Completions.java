package dev.valet.common.rdma;

/** An off-heap array of ibv_wc, read in place after {@link QueuePair#poll}. */
public final class Completions implements AutoCloseable {
    private final int capacity;
    private final long wcs;

    public Completions(int capacity) {
        this.capacity = capacity;
        this.wcs = NativeMemory.allocate((long) capacity * VerbsLayout.WC_SIZE);
    }

    public int capacity() {
        return capacity;
    }

    public long address() {
        return wcs;
    }

    public long wrId(int i) {
        return NativeMemory.getLong(wcs + (long) i * VerbsLayout.WC_SIZE, VerbsLayout.WC_WR_ID);
    }

    public int status(int i) {
        return NativeMemory.getInt(wcs + (long) i * VerbsLayout.WC_SIZE, VerbsLayout.WC_STATUS);
    }

    public int opcode(int i) {
        return NativeMemory.getInt(wcs + (long) i * VerbsLayout.WC_SIZE, VerbsLayout.WC_OPCODE);
    }

    public int byteLength(int i) {
        return NativeMemory.getInt(wcs + (long) i * VerbsLayout.WC_SIZE, VerbsLayout.WC_BYTE_LEN);
    }

    @Override
    public void close() {
        NativeMemory.free(wcs);
    }
}
