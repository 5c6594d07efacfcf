/**
 * The RDMA transport to donors: rdma_cm connection ({@code RdmaConnector}), control frames by SEND/RECV
 * ({@code ControlFrames}), pages by one-sided RDMA WRITE and READ from registered page slots ({@code PageSlot},
 * {@code SlotPool}), several requests in flight per queue pair ({@code PageTransfers}), each write proven placed by
 * a 1-byte READ behind it (docs/protocol.md, "RDMA"). One Agrona agent per connection ({@code RdmaLink}) owns the
 * queue pair; {@code RdmaDonorConnection} is what callers hold.
 */
package dev.valet.client.transport.rdma;
