package dev.valet.client.kernel;

/**
 * One REQ of an IO message, decoded into fields (a flyweight reused for every request: decoding allocates
 * nothing). The DATA of a write is not copied: {@link #dataOffset} and {@link #dataLength} point into the
 * receive buffer. Structural problems (an attribute of the wrong size, lengths past the nest) throw
 * {@link MalformedMessageException}; missing or out-of-range values are left for {@link #problem} to name.
 */
final class IoRequest {
    static final int ABSENT = -1;

    boolean hasCookie;
    long cookie;
    int op;
    long offset;
    long length;
    int dataOffset;
    int dataLength;

    /** Decodes the attributes of one REQ nest. */
    IoRequest decode(AttributeReader req) throws MalformedMessageException {
        hasCookie = false;
        cookie = 0;
        op = ABSENT;
        offset = ABSENT;
        length = ABSENT;
        dataOffset = ABSENT;
        dataLength = 0;
        while (req.next()) {
            switch (req.type()) {
                case ValetGenl.REQ_COOKIE -> {
                    cookie = req.u64();
                    hasCookie = true;
                }
                case ValetGenl.REQ_OP -> op = req.u8();
                case ValetGenl.REQ_OFFSET -> offset = req.u64();
                case ValetGenl.REQ_LENGTH -> length = req.u32AsLong();
                case ValetGenl.REQ_DATA -> {
                    dataOffset = req.payloadOffset();
                    dataLength = req.payloadLength();
                }
                default -> {
                    // REQ_PAD, and attributes a newer driver may add
                }
            }
        }
        return this;
    }

    /**
     * 0 when the request can be served on a device of {@code deviceBytes}, else the positive errno to fail it with:
     * EOPNOTSUPP for an unknown op, EINVAL for a missing field, an offset or length that is not a multiple of the
     * block size, longer than {@link ValetGenl#MAX_IO_BYTES} or {@code maxReadBytes} (a read whose answer
     * would not fit in one attribute), outside the device, or a write whose DATA is not LENGTH bytes.
     */
    int problem(long deviceBytes, int maxReadBytes) {
        if (op == ABSENT) {
            return Netlink.EINVAL;
        }
        if (op == ValetGenl.OP_FLUSH) {
            return 0;
        }
        if (op != ValetGenl.OP_READ && op != ValetGenl.OP_WRITE) {
            return Netlink.EOPNOTSUPP;
        }
        if (offset == ABSENT || length == ABSENT || length == 0 || length > ValetGenl.MAX_IO_BYTES
                || length % ValetGenl.BLOCK_SIZE != 0 || offset % ValetGenl.BLOCK_SIZE != 0
                || offset < 0 || offset > deviceBytes - length) {
            return Netlink.EINVAL;
        }
        if (op == ValetGenl.OP_WRITE && (dataOffset == ABSENT || dataLength != length)) {
            return Netlink.EINVAL;
        }
        if (op == ValetGenl.OP_READ && length > maxReadBytes) {
            return Netlink.EINVAL;
        }
        return 0;
    }
}
