package dev.valet.common.rdma;

/**
 * One rdma_cm event, copied out before it was acknowledged.
 *
 * @param type     RDMA_CM_EVENT_* value
 * @param status   the event's status (an errno or a reject reason; 0 when fine)
 * @param id       the rdma_cm_id it is about (for CONNECT_REQUEST: the new id of the incoming connection)
 * @param listenId for CONNECT_REQUEST: the listening id; else 0
 * @param name     rdma_event_str(type), for messages
 */
public record CmEvent(int type, int status, long id, long listenId, String name) {
}
