package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.MalformedMessageException;
import dev.valet.client.netlink.Netlink;

/**
 * One REQ of an IO message, decoded into fields (a flyweight reused for every request: decoding allocates
 * nothing). A request carries no data: {@link #buf} says where its bytes are in the device's {@link DataArea}.
 * Structural problems (an attribute of the wrong size, lengths past the nest) throw
 * {@link MalformedMessageException}; missing or out-of-range values are left for {@link #problem} and
 * {@link #bufferProblem} to name.
 */
final class IoRequest {
    static final int ABSENT = -1;

    boolean hasCookie;
    long cookie;
    int op;
    long offset;
    long length;
    /** Byte offset of the data in the data area (a u32), or {@link #ABSENT}. */
    long buf;

    /** Decodes the attributes of one REQ nest. */
    IoRequest decode(AttributeReader req) throws MalformedMessageException {
        hasCookie = false;
        cookie = 0;
        op = ABSENT;
        offset = ABSENT;
        length = ABSENT;
        buf = ABSENT;
        while (req.next()) {
            switch (req.type()) {
                case ValetGenl.REQ_COOKIE -> {
                    cookie = req.u64();
                    hasCookie = true;
                }
                case ValetGenl.REQ_OP -> op = req.u8();
                case ValetGenl.REQ_OFFSET -> offset = req.u64();
                case ValetGenl.REQ_LENGTH -> length = req.u32AsLong();
                case ValetGenl.REQ_BUF -> buf = req.u32AsLong();
                default -> {
                    // REQ_PAD, and attributes a newer driver may add
                }
            }
        }
        return this;
    }

    /** Whether the request moves data (a read or a write), and so needs the data area. */
    boolean movesData() {
        return op == ValetGenl.OP_READ || op == ValetGenl.OP_WRITE;
    }

    /**
     * 0 when the request can be served on a device of {@code deviceBytes} (its data area aside: see
     * {@link #bufferProblem}), else the positive errno to fail it with: EOPNOTSUPP for an unknown op, EINVAL for a
     * missing field, an offset or length that is not a multiple of the block size, longer than
     * {@link ValetGenl#MAX_IO_BYTES}, or outside the device.
     */
    int problem(long deviceBytes) {
        if (op == ABSENT) {
            return Netlink.EINVAL;
        }
        if (op == ValetGenl.OP_FLUSH) {
            return 0;
        }
        if (!movesData()) {
            return Netlink.EOPNOTSUPP;
        }
        if (offset == ABSENT || length == ABSENT || length == 0 || length > ValetGenl.MAX_IO_BYTES
                || length % ValetGenl.BLOCK_SIZE != 0 || offset % ValetGenl.BLOCK_SIZE != 0
                || offset < 0 || offset > deviceBytes - length) {
            return Netlink.EINVAL;
        }
        return 0;
    }

    /**
     * For a read or write that passed {@link #problem}: 0 when its BUF is present, a multiple of the block size,
     * and BUF + LENGTH lies within a data area of {@code areaBytes}; else EINVAL.
     */
    int bufferProblem(long areaBytes) {
        if (buf == ABSENT || buf % ValetGenl.BLOCK_SIZE != 0 || buf > areaBytes - length) {
            return Netlink.EINVAL;
        }
        return 0;
    }
}
