// SPDX-License-Identifier: Apache-2.0
/*
 * valet_verbs: the C shim between Valet's Java RDMA code (jnr-ffi) and libibverbs/librdmacm.
 *
 * Two jobs, no other logic:
 *  1. Wrap the four verbs that verbs.h defines `static inline` (they jump through ctx->ops, so the .so exports no
 *     symbol an FFI could call): ibv_post_send, ibv_post_recv, ibv_poll_cq, ibv_req_notify_cq.
 *  2. Export the layout of every struct Java reads or writes in place (sizes and field offsets) and the enum values
 *     it uses, as a table of (name, value). Java compares it with its own constants at start-up and refuses to run
 *     on any mismatch.
 */
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define VALET_EXPORT __attribute__((visibility("default")))

int valet_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad_wr) VALET_EXPORT;
int valet_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr) VALET_EXPORT;
int valet_poll_cq(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc) VALET_EXPORT;
int valet_req_notify_cq(struct ibv_cq *cq, int solicited_only) VALET_EXPORT;
int valet_layout_count(void) VALET_EXPORT;
const char *valet_layout_name(int index) VALET_EXPORT;
int64_t valet_layout_value(int index) VALET_EXPORT;

int valet_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad_wr)
{
	return ibv_post_send(qp, wr, bad_wr);
}

int valet_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr)
{
	return ibv_post_recv(qp, wr, bad_wr);
}

int valet_poll_cq(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc)
{
	return ibv_poll_cq(cq, num_entries, wc);
}

int valet_req_notify_cq(struct ibv_cq *cq, int solicited_only)
{
	return ibv_req_notify_cq(cq, solicited_only);
}

struct layout_entry {
	const char *name;
	int64_t value;
};

#define SIZE(type) { #type ".size", (int64_t)sizeof(struct type) }
#define OFF(type, field, name) { #type "." name, (int64_t)offsetof(struct type, field) }
#define CONST(c) { #c, (int64_t)(c) }

static const struct layout_entry layout[] = {
	SIZE(ibv_sge),
	OFF(ibv_sge, addr, "addr"),
	OFF(ibv_sge, length, "length"),
	OFF(ibv_sge, lkey, "lkey"),

	SIZE(ibv_send_wr),
	OFF(ibv_send_wr, wr_id, "wr_id"),
	OFF(ibv_send_wr, next, "next"),
	OFF(ibv_send_wr, sg_list, "sg_list"),
	OFF(ibv_send_wr, num_sge, "num_sge"),
	OFF(ibv_send_wr, opcode, "opcode"),
	OFF(ibv_send_wr, send_flags, "send_flags"),
	OFF(ibv_send_wr, wr.rdma.remote_addr, "rdma_remote_addr"),
	OFF(ibv_send_wr, wr.rdma.rkey, "rdma_rkey"),

	SIZE(ibv_recv_wr),
	OFF(ibv_recv_wr, wr_id, "wr_id"),
	OFF(ibv_recv_wr, next, "next"),
	OFF(ibv_recv_wr, sg_list, "sg_list"),
	OFF(ibv_recv_wr, num_sge, "num_sge"),

	SIZE(ibv_wc),
	OFF(ibv_wc, wr_id, "wr_id"),
	OFF(ibv_wc, status, "status"),
	OFF(ibv_wc, opcode, "opcode"),
	OFF(ibv_wc, byte_len, "byte_len"),

	SIZE(ibv_qp_init_attr),
	OFF(ibv_qp_init_attr, send_cq, "send_cq"),
	OFF(ibv_qp_init_attr, recv_cq, "recv_cq"),
	OFF(ibv_qp_init_attr, cap.max_send_wr, "cap_max_send_wr"),
	OFF(ibv_qp_init_attr, cap.max_recv_wr, "cap_max_recv_wr"),
	OFF(ibv_qp_init_attr, cap.max_send_sge, "cap_max_send_sge"),
	OFF(ibv_qp_init_attr, cap.max_recv_sge, "cap_max_recv_sge"),
	OFF(ibv_qp_init_attr, cap.max_inline_data, "cap_max_inline_data"),
	OFF(ibv_qp_init_attr, qp_type, "qp_type"),
	OFF(ibv_qp_init_attr, sq_sig_all, "sq_sig_all"),

	SIZE(ibv_qp_attr),
	OFF(ibv_qp_attr, qp_state, "qp_state"),
	OFF(ibv_qp_attr, max_rd_atomic, "max_rd_atomic"),
	OFF(ibv_qp_attr, max_dest_rd_atomic, "max_dest_rd_atomic"),

	OFF(ibv_mr, addr, "addr"),
	OFF(ibv_mr, length, "length"),
	OFF(ibv_mr, lkey, "lkey"),
	OFF(ibv_mr, rkey, "rkey"),

	OFF(ibv_comp_channel, fd, "fd"),

	OFF(rdma_event_channel, fd, "fd"),

	OFF(rdma_cm_id, verbs, "verbs"),
	OFF(rdma_cm_id, qp, "qp"),

	OFF(rdma_cm_event, id, "id"),
	OFF(rdma_cm_event, listen_id, "listen_id"),
	OFF(rdma_cm_event, event, "event"),
	OFF(rdma_cm_event, status, "status"),
	OFF(rdma_cm_event, param.conn.private_data, "conn_private_data"),
	OFF(rdma_cm_event, param.conn.private_data_len, "conn_private_data_len"),

	SIZE(rdma_conn_param),
	OFF(rdma_conn_param, private_data, "private_data"),
	OFF(rdma_conn_param, private_data_len, "private_data_len"),
	OFF(rdma_conn_param, responder_resources, "responder_resources"),
	OFF(rdma_conn_param, initiator_depth, "initiator_depth"),
	OFF(rdma_conn_param, retry_count, "retry_count"),
	OFF(rdma_conn_param, rnr_retry_count, "rnr_retry_count"),

	SIZE(sockaddr_in),
	OFF(sockaddr_in, sin_family, "sin_family"),
	OFF(sockaddr_in, sin_port, "sin_port"),
	OFF(sockaddr_in, sin_addr, "sin_addr"),

	CONST(IBV_WR_RDMA_WRITE),
	CONST(IBV_WR_SEND),
	CONST(IBV_WR_RDMA_READ),
	CONST(IBV_SEND_SIGNALED),
	CONST(IBV_WC_SUCCESS),
	CONST(IBV_WC_WR_FLUSH_ERR),
	CONST(IBV_WC_RECV),
	CONST(IBV_QPT_RC),
	CONST(IBV_QP_STATE),
	CONST(IBV_QP_MAX_QP_RD_ATOMIC),
	CONST(IBV_QP_MAX_DEST_RD_ATOMIC),
	CONST(IBV_ACCESS_LOCAL_WRITE),
	CONST(IBV_ACCESS_REMOTE_WRITE),
	CONST(IBV_ACCESS_REMOTE_READ),
	CONST(RDMA_PS_TCP),
	CONST(RDMA_CM_EVENT_ADDR_RESOLVED),
	CONST(RDMA_CM_EVENT_ROUTE_RESOLVED),
	CONST(RDMA_CM_EVENT_CONNECT_REQUEST),
	CONST(RDMA_CM_EVENT_ESTABLISHED),
	CONST(RDMA_CM_EVENT_DISCONNECTED),
	CONST(RDMA_CM_EVENT_TIMEWAIT_EXIT),
	CONST(AF_INET),
};

int valet_layout_count(void)
{
	return (int)(sizeof(layout) / sizeof(layout[0]));
}

const char *valet_layout_name(int index)
{
	if (index < 0 || index >= valet_layout_count())
		return NULL;
	return layout[index].name;
}

int64_t valet_layout_value(int index)
{
	if (index < 0 || index >= valet_layout_count())
		return -1;
	return layout[index].value;
}
