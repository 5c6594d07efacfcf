package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/** A control message body that encodes itself. Page batches use flyweights instead (see {@link PageBatch}). */
public interface MessageBody {
    /** Bytes {@link #encode} will write. */
    int encodedSize();

    /** Writes the body at the writer index. */
    void encode(ByteBuf out);
}
