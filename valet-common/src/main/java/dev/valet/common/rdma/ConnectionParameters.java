package dev.valet.common.rdma;

/** struct rdma_conn_param for rdma_connect and rdma_accept, in native memory. */
public final class ConnectionParameters {
    /** Outstanding RDMA READs either side allows (the client reads pages; rdma_cm caps it at the device's limit). */
    public static final int READ_DEPTH = 16;

    private ConnectionParameters() {
    }

    /** A new rdma_conn_param: READ_DEPTH both ways, 7 retries; free it with {@link NativeMemory#free}. */
    public static long allocate() {
        long p = NativeMemory.allocate(VerbsLayout.CONN_PARAM_SIZE);
        NativeMemory.putByte(p, VerbsLayout.CONN_PARAM_RESPONDER_RESOURCES, (byte) READ_DEPTH);
        NativeMemory.putByte(p, VerbsLayout.CONN_PARAM_INITIATOR_DEPTH, (byte) READ_DEPTH);
        NativeMemory.putByte(p, VerbsLayout.CONN_PARAM_RETRY_COUNT, (byte) 7);
        NativeMemory.putByte(p, VerbsLayout.CONN_PARAM_RNR_RETRY_COUNT, (byte) 7);
        return p;
    }
}
