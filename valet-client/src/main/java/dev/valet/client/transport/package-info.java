/**
 * Transports from the client to its donors: {@link dev.valet.client.transport.DonorConnection} is what the engine
 * sees; {@code tcp} carries it over netty, {@code rdma} over RDMA verbs; {@link
 * dev.valet.client.transport.Transports} picks one from the {@code transport} key ({@code auto}: RDMA where it
 * works, TCP otherwise, per donor). {@link dev.valet.client.transport.DonorControl} is what both share: the
 * handshake, the control requests and the rules a reply is checked by.
 */
package dev.valet.client.transport;
