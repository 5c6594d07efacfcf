package dev.valet.common.rdma;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sizes, field offsets and enum values of the verbs and rdma_cm structs that Valet reads and writes in place,
 * as this Java code assumes them. {@link #check(Map)} compares them with the table the shim was compiled with
 * (native/verbs/valet_verbs.c); Valet refuses to use RDMA on any difference rather than write a field at the wrong
 * place.
 */
public final class VerbsLayout {
    public static final int SGE_SIZE = 16;
    public static final int SGE_ADDR = 0;
    public static final int SGE_LENGTH = 8;
    public static final int SGE_LKEY = 12;

    public static final int SEND_WR_SIZE = 128;
    public static final int SEND_WR_ID = 0;
    public static final int SEND_WR_NEXT = 8;
    public static final int SEND_WR_SG_LIST = 16;
    public static final int SEND_WR_NUM_SGE = 24;
    public static final int SEND_WR_OPCODE = 28;
    public static final int SEND_WR_SEND_FLAGS = 32;
    public static final int SEND_WR_REMOTE_ADDR = 40;
    public static final int SEND_WR_RKEY = 48;

    public static final int RECV_WR_SIZE = 32;
    public static final int RECV_WR_ID = 0;
    public static final int RECV_WR_NEXT = 8;
    public static final int RECV_WR_SG_LIST = 16;
    public static final int RECV_WR_NUM_SGE = 24;

    public static final int WC_SIZE = 48;
    public static final int WC_WR_ID = 0;
    public static final int WC_STATUS = 8;
    public static final int WC_OPCODE = 12;
    public static final int WC_BYTE_LEN = 20;

    public static final int QP_INIT_ATTR_SIZE = 64;
    public static final int QP_INIT_SEND_CQ = 8;
    public static final int QP_INIT_RECV_CQ = 16;
    public static final int QP_INIT_MAX_SEND_WR = 32;
    public static final int QP_INIT_MAX_RECV_WR = 36;
    public static final int QP_INIT_MAX_SEND_SGE = 40;
    public static final int QP_INIT_MAX_RECV_SGE = 44;
    public static final int QP_INIT_MAX_INLINE_DATA = 48;
    public static final int QP_INIT_QP_TYPE = 52;
    public static final int QP_INIT_SQ_SIG_ALL = 56;

    public static final int QP_ATTR_SIZE = 144;
    public static final int QP_ATTR_STATE = 0;
    public static final int QP_ATTR_MAX_RD_ATOMIC = 126;
    public static final int QP_ATTR_MAX_DEST_RD_ATOMIC = 127;

    public static final int MR_ADDR = 16;
    public static final int MR_LENGTH = 24;
    public static final int MR_LKEY = 36;
    public static final int MR_RKEY = 40;

    public static final int COMP_CHANNEL_FD = 8;
    public static final int EVENT_CHANNEL_FD = 0;

    public static final int CM_ID_VERBS = 0;
    public static final int CM_ID_QP = 24;

    public static final int CM_EVENT_ID = 0;
    public static final int CM_EVENT_LISTEN_ID = 8;
    public static final int CM_EVENT_EVENT = 16;
    public static final int CM_EVENT_STATUS = 20;
    public static final int CM_EVENT_PRIVATE_DATA = 24;
    public static final int CM_EVENT_PRIVATE_DATA_LEN = 32;

    public static final int CONN_PARAM_SIZE = 24;
    public static final int CONN_PARAM_PRIVATE_DATA = 0;
    public static final int CONN_PARAM_PRIVATE_DATA_LEN = 8;
    public static final int CONN_PARAM_RESPONDER_RESOURCES = 9;
    public static final int CONN_PARAM_INITIATOR_DEPTH = 10;
    public static final int CONN_PARAM_RETRY_COUNT = 12;
    public static final int CONN_PARAM_RNR_RETRY_COUNT = 13;

    public static final int SOCKADDR_IN_SIZE = 16;
    public static final int SOCKADDR_IN_FAMILY = 0;
    public static final int SOCKADDR_IN_PORT = 2;
    public static final int SOCKADDR_IN_ADDR = 4;

    public static final int IBV_WR_RDMA_WRITE = 0;
    public static final int IBV_WR_SEND = 2;
    public static final int IBV_WR_RDMA_READ = 4;
    public static final int IBV_SEND_SIGNALED = 2;
    public static final int IBV_WC_SUCCESS = 0;
    public static final int IBV_WC_WR_FLUSH_ERR = 5;
    public static final int IBV_WC_RECV = 128;
    public static final int IBV_QPT_RC = 2;
    public static final int IBV_QP_STATE = 1;
    public static final int IBV_QP_MAX_QP_RD_ATOMIC = 1 << 13;
    public static final int IBV_QP_MAX_DEST_RD_ATOMIC = 1 << 17;
    public static final int IBV_ACCESS_LOCAL_WRITE = 1;
    public static final int IBV_ACCESS_REMOTE_WRITE = 2;
    public static final int IBV_ACCESS_REMOTE_READ = 4;
    public static final int RDMA_PS_TCP = 0x0106;
    public static final int RDMA_CM_EVENT_ADDR_RESOLVED = 0;
    public static final int RDMA_CM_EVENT_ROUTE_RESOLVED = 2;
    public static final int RDMA_CM_EVENT_CONNECT_REQUEST = 4;
    public static final int RDMA_CM_EVENT_ESTABLISHED = 9;
    public static final int RDMA_CM_EVENT_DISCONNECTED = 10;
    public static final int RDMA_CM_EVENT_TIMEWAIT_EXIT = 15;
    public static final int AF_INET = 2;

    private VerbsLayout() {
    }

    /** Every entry the shim must export, with the value this class assumes, under the shim's names. */
    public static Map<String, Long> expected() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("ibv_sge.size", (long) SGE_SIZE);
        m.put("ibv_sge.addr", (long) SGE_ADDR);
        m.put("ibv_sge.length", (long) SGE_LENGTH);
        m.put("ibv_sge.lkey", (long) SGE_LKEY);
        m.put("ibv_send_wr.size", (long) SEND_WR_SIZE);
        m.put("ibv_send_wr.wr_id", (long) SEND_WR_ID);
        m.put("ibv_send_wr.next", (long) SEND_WR_NEXT);
        m.put("ibv_send_wr.sg_list", (long) SEND_WR_SG_LIST);
        m.put("ibv_send_wr.num_sge", (long) SEND_WR_NUM_SGE);
        m.put("ibv_send_wr.opcode", (long) SEND_WR_OPCODE);
        m.put("ibv_send_wr.send_flags", (long) SEND_WR_SEND_FLAGS);
        m.put("ibv_send_wr.rdma_remote_addr", (long) SEND_WR_REMOTE_ADDR);
        m.put("ibv_send_wr.rdma_rkey", (long) SEND_WR_RKEY);
        m.put("ibv_recv_wr.size", (long) RECV_WR_SIZE);
        m.put("ibv_recv_wr.wr_id", (long) RECV_WR_ID);
        m.put("ibv_recv_wr.next", (long) RECV_WR_NEXT);
        m.put("ibv_recv_wr.sg_list", (long) RECV_WR_SG_LIST);
        m.put("ibv_recv_wr.num_sge", (long) RECV_WR_NUM_SGE);
        m.put("ibv_wc.size", (long) WC_SIZE);
        m.put("ibv_wc.wr_id", (long) WC_WR_ID);
        m.put("ibv_wc.status", (long) WC_STATUS);
        m.put("ibv_wc.opcode", (long) WC_OPCODE);
        m.put("ibv_wc.byte_len", (long) WC_BYTE_LEN);
        m.put("ibv_qp_init_attr.size", (long) QP_INIT_ATTR_SIZE);
        m.put("ibv_qp_init_attr.send_cq", (long) QP_INIT_SEND_CQ);
        m.put("ibv_qp_init_attr.recv_cq", (long) QP_INIT_RECV_CQ);
        m.put("ibv_qp_init_attr.cap_max_send_wr", (long) QP_INIT_MAX_SEND_WR);
        m.put("ibv_qp_init_attr.cap_max_recv_wr", (long) QP_INIT_MAX_RECV_WR);
        m.put("ibv_qp_init_attr.cap_max_send_sge", (long) QP_INIT_MAX_SEND_SGE);
        m.put("ibv_qp_init_attr.cap_max_recv_sge", (long) QP_INIT_MAX_RECV_SGE);
        m.put("ibv_qp_init_attr.cap_max_inline_data", (long) QP_INIT_MAX_INLINE_DATA);
        m.put("ibv_qp_init_attr.qp_type", (long) QP_INIT_QP_TYPE);
        m.put("ibv_qp_init_attr.sq_sig_all", (long) QP_INIT_SQ_SIG_ALL);
        m.put("ibv_qp_attr.size", (long) QP_ATTR_SIZE);
        m.put("ibv_qp_attr.qp_state", (long) QP_ATTR_STATE);
        m.put("ibv_qp_attr.max_rd_atomic", (long) QP_ATTR_MAX_RD_ATOMIC);
        m.put("ibv_qp_attr.max_dest_rd_atomic", (long) QP_ATTR_MAX_DEST_RD_ATOMIC);
        m.put("ibv_mr.addr", (long) MR_ADDR);
        m.put("ibv_mr.length", (long) MR_LENGTH);
        m.put("ibv_mr.lkey", (long) MR_LKEY);
        m.put("ibv_mr.rkey", (long) MR_RKEY);
        m.put("ibv_comp_channel.fd", (long) COMP_CHANNEL_FD);
        m.put("rdma_event_channel.fd", (long) EVENT_CHANNEL_FD);
        m.put("rdma_cm_id.verbs", (long) CM_ID_VERBS);
        m.put("rdma_cm_id.qp", (long) CM_ID_QP);
        m.put("rdma_cm_event.id", (long) CM_EVENT_ID);
        m.put("rdma_cm_event.listen_id", (long) CM_EVENT_LISTEN_ID);
        m.put("rdma_cm_event.event", (long) CM_EVENT_EVENT);
        m.put("rdma_cm_event.status", (long) CM_EVENT_STATUS);
        m.put("rdma_cm_event.conn_private_data", (long) CM_EVENT_PRIVATE_DATA);
        m.put("rdma_cm_event.conn_private_data_len", (long) CM_EVENT_PRIVATE_DATA_LEN);
        m.put("rdma_conn_param.size", (long) CONN_PARAM_SIZE);
        m.put("rdma_conn_param.private_data", (long) CONN_PARAM_PRIVATE_DATA);
        m.put("rdma_conn_param.private_data_len", (long) CONN_PARAM_PRIVATE_DATA_LEN);
        m.put("rdma_conn_param.responder_resources", (long) CONN_PARAM_RESPONDER_RESOURCES);
        m.put("rdma_conn_param.initiator_depth", (long) CONN_PARAM_INITIATOR_DEPTH);
        m.put("rdma_conn_param.retry_count", (long) CONN_PARAM_RETRY_COUNT);
        m.put("rdma_conn_param.rnr_retry_count", (long) CONN_PARAM_RNR_RETRY_COUNT);
        m.put("sockaddr_in.size", (long) SOCKADDR_IN_SIZE);
        m.put("sockaddr_in.sin_family", (long) SOCKADDR_IN_FAMILY);
        m.put("sockaddr_in.sin_port", (long) SOCKADDR_IN_PORT);
        m.put("sockaddr_in.sin_addr", (long) SOCKADDR_IN_ADDR);
        m.put("IBV_WR_RDMA_WRITE", (long) IBV_WR_RDMA_WRITE);
        m.put("IBV_WR_SEND", (long) IBV_WR_SEND);
        m.put("IBV_WR_RDMA_READ", (long) IBV_WR_RDMA_READ);
        m.put("IBV_SEND_SIGNALED", (long) IBV_SEND_SIGNALED);
        m.put("IBV_WC_SUCCESS", (long) IBV_WC_SUCCESS);
        m.put("IBV_WC_WR_FLUSH_ERR", (long) IBV_WC_WR_FLUSH_ERR);
        m.put("IBV_WC_RECV", (long) IBV_WC_RECV);
        m.put("IBV_QPT_RC", (long) IBV_QPT_RC);
        m.put("IBV_QP_STATE", (long) IBV_QP_STATE);
        m.put("IBV_QP_MAX_QP_RD_ATOMIC", (long) IBV_QP_MAX_QP_RD_ATOMIC);
        m.put("IBV_QP_MAX_DEST_RD_ATOMIC", (long) IBV_QP_MAX_DEST_RD_ATOMIC);
        m.put("IBV_ACCESS_LOCAL_WRITE", (long) IBV_ACCESS_LOCAL_WRITE);
        m.put("IBV_ACCESS_REMOTE_WRITE", (long) IBV_ACCESS_REMOTE_WRITE);
        m.put("IBV_ACCESS_REMOTE_READ", (long) IBV_ACCESS_REMOTE_READ);
        m.put("RDMA_PS_TCP", (long) RDMA_PS_TCP);
        m.put("RDMA_CM_EVENT_ADDR_RESOLVED", (long) RDMA_CM_EVENT_ADDR_RESOLVED);
        m.put("RDMA_CM_EVENT_ROUTE_RESOLVED", (long) RDMA_CM_EVENT_ROUTE_RESOLVED);
        m.put("RDMA_CM_EVENT_CONNECT_REQUEST", (long) RDMA_CM_EVENT_CONNECT_REQUEST);
        m.put("RDMA_CM_EVENT_ESTABLISHED", (long) RDMA_CM_EVENT_ESTABLISHED);
        m.put("RDMA_CM_EVENT_DISCONNECTED", (long) RDMA_CM_EVENT_DISCONNECTED);
        m.put("RDMA_CM_EVENT_TIMEWAIT_EXIT", (long) RDMA_CM_EVENT_TIMEWAIT_EXIT);
        m.put("AF_INET", (long) AF_INET);
        return m;
    }

    /**
     * The differences between {@code native} (the shim's table) and {@link #expected()}, one line each: a value
     * that differs, an entry Java needs that the shim lacks, an entry the shim has that Java does not know.
     * Empty when they agree.
     */
    public static List<String> differences(Map<String, Long> nativeTable) {
        List<String> out = new ArrayList<>();
        Map<String, Long> expected = expected();
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            Long actual = nativeTable.get(e.getKey());
            if (actual == null) {
                out.add(e.getKey() + ": missing from the shim's table (Java expects " + e.getValue() + ")");
            } else if (!actual.equals(e.getValue())) {
                out.add(e.getKey() + ": the shim's headers say " + actual + ", Java expects " + e.getValue());
            }
        }
        for (String name : nativeTable.keySet()) {
            if (!expected.containsKey(name)) {
                out.add(name + ": exported by the shim but unknown to Java");
            }
        }
        return out;
    }

    /** Throws {@link RdmaUnavailableException} naming every difference, unless the table matches. */
    public static void check(Map<String, Long> nativeTable) {
        List<String> diff = differences(nativeTable);
        if (!diff.isEmpty()) {
            throw new RdmaUnavailableException("verbs layout mismatch between libvalet_verbs and Valet's Java "
                    + "constants (rebuild native/verbs against this machine's rdma-core, or update VerbsLayout): "
                    + String.join("; ", diff));
        }
    }
}
