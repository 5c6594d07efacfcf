/**
 * The Valet client daemon. Rooms: {@code kernel} (the channel to /dev/valetN), {@code netlink} (the netlink
 * library it speaks through), {@code engine} (slabs, placement, replication, repair, backup disk) and
 * {@code transport} (connections to donors, TCP and RDMA). The tools that drive and measure it are valet-tools'.
 */
package dev.valet.client;
