/**
 * The Valet client daemon. Rooms: {@code transport} (connections to donors: TCP now, RDMA later), {@code check}
 * (the checking client). The engine (slabs, placement, replication) and the kernel channel come next.
 */
package dev.valet.client;
