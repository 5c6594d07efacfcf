package dev.valet.common.rdma;

/**
 * A fixed array of send work requests, each with its own one-entry scatter list, built once in native memory and
 * changed in place: {@link #set} rewrites one request's fields, {@link #chain} links the first {@code n} and ends
 * the chain there, and the whole chain goes to the QP in one {@link QueuePair#postSend} call.
 */
public final class SendWorkRequests implements AutoCloseable {
    private final int capacity;
    private final long wrs;
    private final long sges;

    public SendWorkRequests(int capacity) {
        this.capacity = capacity;
        this.wrs = NativeMemory.allocate((long) capacity * VerbsLayout.SEND_WR_SIZE);
        this.sges = NativeMemory.allocate((long) capacity * VerbsLayout.SGE_SIZE);
        for (int i = 0; i < capacity; i++) {
            long wr = address(i);
            NativeMemory.putAddress(wr, VerbsLayout.SEND_WR_SG_LIST, sges + (long) i * VerbsLayout.SGE_SIZE);
            NativeMemory.putInt(wr, VerbsLayout.SEND_WR_NUM_SGE, 1);
        }
    }

    public int capacity() {
        return capacity;
    }

    /** The native address of request {@code i} (the head of a chain is {@code address(0)}). */
    public long address(int i) {
        return wrs + (long) i * VerbsLayout.SEND_WR_SIZE;
    }

    /**
     * Rewrites request {@code i}: {@code opcode} (IBV_WR_*), the local buffer, and for RDMA READ/WRITE the remote
     * address and rkey (ignored for SEND).
     */
    public void set(int i, long wrId, int opcode, boolean signaled, long localAddress, int length, int lkey,
                    long remoteAddress, int rkey) {
        long wr = address(i);
        long sge = sges + (long) i * VerbsLayout.SGE_SIZE;
        NativeMemory.putLong(sge, VerbsLayout.SGE_ADDR, localAddress);
        NativeMemory.putInt(sge, VerbsLayout.SGE_LENGTH, length);
        NativeMemory.putInt(sge, VerbsLayout.SGE_LKEY, lkey);
        NativeMemory.putLong(wr, VerbsLayout.SEND_WR_ID, wrId);
        NativeMemory.putInt(wr, VerbsLayout.SEND_WR_OPCODE, opcode);
        NativeMemory.putInt(wr, VerbsLayout.SEND_WR_SEND_FLAGS, signaled ? VerbsLayout.IBV_SEND_SIGNALED : 0);
        NativeMemory.putLong(wr, VerbsLayout.SEND_WR_REMOTE_ADDR, remoteAddress);
        NativeMemory.putInt(wr, VerbsLayout.SEND_WR_RKEY, rkey);
    }

    /** Links requests {@code 0 .. n-1} into one chain ending at {@code n-1}. */
    public void chain(int n) {
        if (n < 1 || n > capacity) {
            throw new IllegalArgumentException("chain of " + n + " outside 1.." + capacity);
        }
        for (int i = 0; i < n - 1; i++) {
            NativeMemory.putAddress(address(i), VerbsLayout.SEND_WR_NEXT, address(i + 1));
        }
        NativeMemory.putAddress(address(n - 1), VerbsLayout.SEND_WR_NEXT, 0);
    }

    @Override
    public void close() {
        NativeMemory.free(wrs);
        NativeMemory.free(sges);
    }
}
