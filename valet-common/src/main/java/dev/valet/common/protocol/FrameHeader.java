package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Byte layout of the 16-byte header that starts every frame (big-endian, like all of the wire protocol).
 *
 * <pre>
 *  0      4  length      bytes after this field (rest of header + body); 12 .. maxFrameBytes - 4
 *  4      2  magic       0x564C ("VL")
 *  6      1  version     protocol version, {@link #VERSION}
 *  7      1  opcode      {@link Opcode}
 *  8      8  requestId   chosen by the requester, echoed by the reply
 * 16      -  body        opcode-specific
 * </pre>
 */
public final class FrameHeader {
    public static final int LENGTH_OFFSET = 0;
    public static final int MAGIC_OFFSET = 4;
    public static final int VERSION_OFFSET = 6;
    public static final int OPCODE_OFFSET = 7;
    public static final int REQUEST_ID_OFFSET = 8;
    public static final int BODY_OFFSET = 16;
    /** Size of the header, including the length field. */
    public static final int SIZE = BODY_OFFSET;
    /** The length field counts the bytes after itself. */
    public static final int LENGTH_FIELD_SIZE = 4;

    public static final short MAGIC = 0x564C;
    public static final byte VERSION = 1;

    /**
     * Set in the request id of a request the <b>donor</b> sends to the client (EVICT), and so in the client's reply:
     * the two sides choose request ids independently, and this bit keeps the two id spaces apart. A client's own
     * requests never set it.
     */
    public static final long DONOR_REQUEST_BIT = 1L << 63;

    /** The largest frame any Valet peer may be configured to accept (donor.yaml maxFrameBytes caps here). */
    public static final int MAX_FRAME_BYTES = 64 * 1024 * 1024;

    /** Page size of protocol v1: every page on the wire is exactly this long. */
    public static final int PAGE_SIZE = 4096;

    private FrameHeader() {
    }

    /**
     * Checks the header at {@code start} of {@code in} (at least {@link #SIZE} readable bytes): magic, version, and a
     * frame length of {@link #SIZE} to {@code maxFrameBytes}. Returns the whole frame's length in bytes; throws a
     * fatal {@link ProtocolException} saying what is wrong (a bad header loses the frame boundary).
     */
    public static int checkHeader(ByteBuf in, int start, int maxFrameBytes) {
        int magic = in.getUnsignedShort(start + MAGIC_OFFSET);
        if (magic != (MAGIC & 0xFFFF)) {
            throw new ProtocolException(ErrorCode.BAD_FRAME, String.format("bad magic 0x%04x (expected 0x%04x)",
                    magic, MAGIC), true);
        }
        int version = in.getUnsignedByte(start + VERSION_OFFSET);
        if (version != VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION, "protocol version " + version
                    + " (this side speaks " + VERSION + ")", true);
        }
        long frameBytes = in.getUnsignedInt(start + LENGTH_OFFSET) + LENGTH_FIELD_SIZE;
        if (frameBytes < SIZE || frameBytes > maxFrameBytes) {
            throw new ProtocolException(ErrorCode.BAD_FRAME, "frame length " + frameBytes + " outside " + SIZE + ".."
                    + maxFrameBytes, true);
        }
        return (int) frameBytes;
    }
}
