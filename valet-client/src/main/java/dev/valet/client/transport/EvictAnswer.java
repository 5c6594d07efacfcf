package dev.valet.client.transport;

import dev.valet.client.transport.DonorConnection.DonorRequests;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.EvictReply;
import dev.valet.common.protocol.EvictRequest;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;

/**
 * The answer to an EVICT a donor sent on a connection, whatever carries it: the frame is checked, handed to the
 * connection's {@link DonorRequests} handler (none: declined with {@code EVICT_FAILED}), and its outcome becomes
 * the reply frame (EVICT_OK accepted or declined; ERROR for a malformed EVICT or a failed handler).
 *
 * @param opcode    EVICT_OK or ERROR
 * @param requestId the donor's request id (with {@link FrameHeader#DONOR_REQUEST_BIT}), echoed
 * @param body      the reply's body
 */
public record EvictAnswer(Opcode opcode, long requestId, MessageBody body) {
    private static final Logger LOG = LoggerFactory.getLogger(EvictAnswer.class);

    /**
     * Decodes the EVICT {@code body} (read at once: the buffer may be reused when this returns) and asks
     * {@code handler}; completes on whatever thread the handler completes on.
     */
    public static CompletableFuture<EvictAnswer> of(DonorAddress donor, long requestId, ByteBuf body,
                                                    DonorRequests handler) {
        EvictRequest request;
        try {
            if ((requestId & FrameHeader.DONOR_REQUEST_BIT) == 0) {
                throw ProtocolException.badBody("EVICT with request id " + requestId + " lacks the donor-request bit");
            }
            request = EvictRequest.decode(body);
        } catch (ProtocolException e) {
            LOG.warn("{}: malformed EVICT: {}", donor, e.getMessage());
            return CompletableFuture.completedFuture(new EvictAnswer(Opcode.ERROR, requestId,
                    new ErrorReply(e.code(), e.getMessage())));
        }
        CompletableFuture<EvictReply> outcome = handler != null
                ? handler.evict(request.slabId(), request.deadlineMillis())
                : CompletableFuture.completedFuture(new EvictReply(request.slabId(), ErrorCode.EVICT_FAILED));
        return outcome.handle((reply, err) -> err == null
                ? new EvictAnswer(Opcode.EVICT_OK, requestId, reply)
                : new EvictAnswer(Opcode.ERROR, requestId, new ErrorReply(ErrorCode.INTERNAL, "evicting slab "
                        + request.slabId() + " failed: " + err)));
    }

    /** The reply frame. */
    public ByteBuf encode(ByteBufAllocator alloc) {
        return Frames.encode(alloc, opcode, requestId, body);
    }
}
