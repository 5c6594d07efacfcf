package dev.valet.common.rdma;

import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.types.intptr_t;

/**
 * libvalet_verbs (native/verbs): the four verbs that verbs.h defines {@code static inline}, and the layout table
 * that {@link VerbsLayout} checks. Pointers are raw addresses, so a call allocates nothing.
 */
public interface VerbsShim {
    @IgnoreError
    int valet_post_send(@intptr_t long qp, @intptr_t long wr, @intptr_t long badWr);

    @IgnoreError
    int valet_post_recv(@intptr_t long qp, @intptr_t long wr, @intptr_t long badWr);

    @IgnoreError
    int valet_poll_cq(@intptr_t long cq, int numEntries, @intptr_t long wc);

    @IgnoreError
    int valet_req_notify_cq(@intptr_t long cq, int solicitedOnly);

    int valet_layout_count();

    String valet_layout_name(int index);

    long valet_layout_value(int index);
}
