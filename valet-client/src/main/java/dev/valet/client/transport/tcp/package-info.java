/** The TCP transport to donors, on netty: connect, HELLO, pipelined requests matched to replies by request id. */
package dev.valet.client.transport.tcp;
