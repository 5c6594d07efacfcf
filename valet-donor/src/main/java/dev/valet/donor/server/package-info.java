/**
 * The donor's network side: the netty server, the per-connection protocol handler with its authentication
 * handshake and limits, and the rate-limited log of refused peers.
 */
package dev.valet.donor.server;
