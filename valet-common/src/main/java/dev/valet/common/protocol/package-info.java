/**
 * Valet wire protocol v1, client to donor, over TCP and (control frames by SEND/RECV, pages one-sided) RDMA:
 * length-prefixed frames ({@link dev.valet.common.protocol.FrameHeader}), control messages as small records that
 * encode and decode themselves, and page batches as reusable flyweights
 * ({@link dev.valet.common.protocol.PageBatch}, {@link dev.valet.common.protocol.PageBatchEncoder}) so the data
 * path copies each page once and allocates nothing per page. Every length is checked before anything is
 * buffered. Byte layouts: {@code docs/protocol.md}.
 */
package dev.valet.common.protocol;
