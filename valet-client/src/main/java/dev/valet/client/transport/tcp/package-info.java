/**
 * The TCP transport to donors, on netty: connect (through TLS when configured), HELLO and, with a cluster
 * secret, the mutual AUTH handshake ({@link dev.valet.client.transport.TransportSecurity}), then pipelined
 * requests matched to replies by request id.
 */
package dev.valet.client.transport.tcp;
