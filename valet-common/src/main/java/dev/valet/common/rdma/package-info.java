/**
 * RDMA through jnr-ffi: librdmacm (event channel, ids, resolve, connect/accept, disconnect), libibverbs (PD, CQ and
 * completion channel, memory registration) and the native/verbs shim for the inline verbs, with the struct layout
 * checked at load ({@link dev.valet.common.rdma.VerbsLayout}). Shared by the donor's listener and the client's
 * connection: {@link dev.valet.common.rdma.QueuePair}, {@link dev.valet.common.rdma.FrameChannel} (frames by
 * SEND/RECV), {@link dev.valet.common.rdma.SendWorkRequests} (pre-built work requests changed in place).
 */
package dev.valet.common.rdma;
