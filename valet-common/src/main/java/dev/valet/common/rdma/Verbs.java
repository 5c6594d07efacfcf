package dev.valet.common.rdma;

import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;

/** The libibverbs calls Valet makes (exported symbols only; the inline ones are in {@link VerbsShim}). */
public interface Verbs {
    @intptr_t long ibv_get_device_list(@intptr_t long numDevices);

    void ibv_free_device_list(@intptr_t long list);

    @SaveError
    @intptr_t long ibv_alloc_pd(@intptr_t long context);

    int ibv_dealloc_pd(@intptr_t long pd);

    @SaveError
    @intptr_t long ibv_create_comp_channel(@intptr_t long context);

    int ibv_destroy_comp_channel(@intptr_t long channel);

    @SaveError
    @intptr_t long ibv_create_cq(@intptr_t long context, int cqe, @intptr_t long cqContext, @intptr_t long channel,
                                 int compVector);

    int ibv_destroy_cq(@intptr_t long cq);

    @SaveError
    @intptr_t long ibv_reg_mr(@intptr_t long pd, @intptr_t long addr, @size_t long length, int access);

    int ibv_dereg_mr(@intptr_t long mr);

    /** Fills {@code attr} (struct ibv_qp_attr) and {@code initAttr} (struct ibv_qp_init_attr); 0 or an errno. */
    int ibv_query_qp(@intptr_t long qp, @intptr_t long attr, int attrMask, @intptr_t long initAttr);

    /** Blocks unless the channel's fd is non-blocking; {@code cq} and {@code cqContext} point to pointers (out). */
    @SaveError
    int ibv_get_cq_event(@intptr_t long channel, @intptr_t long cq, @intptr_t long cqContext);

    @IgnoreError
    void ibv_ack_cq_events(@intptr_t long cq, int nevents);
}
