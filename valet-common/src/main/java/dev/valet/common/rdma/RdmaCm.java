package dev.valet.common.rdma;

import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;

/** The librdmacm calls Valet makes: connection management over an event channel. All return 0 or -1 + errno. */
public interface RdmaCm {
    @SaveError
    @intptr_t long rdma_create_event_channel();

    void rdma_destroy_event_channel(@intptr_t long channel);

    /** {@code id} points to a pointer (out). */
    @SaveError
    int rdma_create_id(@intptr_t long channel, @intptr_t long id, @intptr_t long context, int portSpace);

    @SaveError
    int rdma_destroy_id(@intptr_t long id);

    @SaveError
    int rdma_bind_addr(@intptr_t long id, @intptr_t long addr);

    @SaveError
    int rdma_listen(@intptr_t long id, int backlog);

    @SaveError
    int rdma_resolve_addr(@intptr_t long id, @intptr_t long srcAddr, @intptr_t long dstAddr, int timeoutMs);

    @SaveError
    int rdma_resolve_route(@intptr_t long id, int timeoutMs);

    @SaveError
    int rdma_create_qp(@intptr_t long id, @intptr_t long pd, @intptr_t long qpInitAttr);

    void rdma_destroy_qp(@intptr_t long id);

    @SaveError
    int rdma_connect(@intptr_t long id, @intptr_t long connParam);

    @SaveError
    int rdma_accept(@intptr_t long id, @intptr_t long connParam);

    @SaveError
    int rdma_reject(@intptr_t long id, @intptr_t long privateData, byte privateDataLen);

    @SaveError
    int rdma_disconnect(@intptr_t long id);

    /** {@code event} points to a pointer (out). Blocks unless the channel's fd is non-blocking. */
    @SaveError
    int rdma_get_cm_event(@intptr_t long channel, @intptr_t long event);

    @SaveError
    int rdma_ack_cm_event(@intptr_t long event);

    String rdma_event_str(int event);

    /** The bound port of an id, network byte order. */
    short rdma_get_src_port(@intptr_t long id);
}
