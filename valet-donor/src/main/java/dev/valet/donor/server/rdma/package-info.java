/**
 * The donor's RDMA side: an rdma_cm listener beside the TCP server, one session per client with its own protection
 * domain, control frames by SEND/RECV served by the same handler as TCP, and REGISTER_SLAB (a per-connection rkey
 * for one slab). Page data is moved by the client, one-sidedly.
 */
package dev.valet.donor.server.rdma;
