/**
 * The RDMA transport to donors: rdma_cm connection, control frames by SEND/RECV, pages by one-sided RDMA WRITE and
 * READ from registered page slots, each write proven placed by a 1-byte READ behind it (docs/protocol.md, "RDMA").
 */
package dev.valet.client.transport.rdma;
