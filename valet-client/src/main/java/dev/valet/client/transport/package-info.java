/**
 * Transports from the client to its donors: {@link dev.valet.client.transport.DonorConnection} is what the engine
 * sees; {@code tcp} carries it over netty (RDMA will sit beside it).
 */
package dev.valet.client.transport;
