/**
 * The running client daemon's control socket: a unix socket, mode 0600, on which {@code valet status --client}
 * asks for the daemon's view (its donors, slabs, degraded copies and queues) as one JSON document. Read-only.
 */
package dev.valet.client.control;
