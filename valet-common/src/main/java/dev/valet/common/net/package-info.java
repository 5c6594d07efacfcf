/**
 * Netty plumbing both daemons share: the transport choice ({@link dev.valet.common.net.NettyTransport}) and TLS
 * contexts from {@code tls} in YAML ({@link dev.valet.common.net.TlsContexts}).
 */
package dev.valet.common.net;
