package dev.valet.client.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes netlink messages into a buffer it does not own (a flyweight): {@link #begin} an {@code nlmsghdr},
 * optionally {@link #genl} a {@code genlmsghdr}, attributes ({@code put*}, {@link #beginNest}/{@link #endNest}),
 * then {@link #finish()} fills in the length. Several messages may follow one another in one datagram. Nothing is
 * allocated per message; padding is zeroed.
 *
 * <p>Every write is bounds-checked: running out of room throws {@link IllegalStateException}, and an attribute
 * or nest longer than a u16 {@code nla_len} can say ({@link AttributeDescriptor#MAX_LENGTH}) throws
 * {@link IllegalArgumentException} / {@link IllegalStateException} rather than emit a wrapped length. Use
 * {@link #fits} to decide when a batch must go out.
 */
public final class MessageWriter {
    private static final int MAX_NEST_DEPTH = 8;

    private ByteBuffer buffer;
    private int start;
    private int limit;
    private int position;
    private int messageStart = -1;
    private final int[] nests = new int[MAX_NEST_DEPTH];
    private int depth;

    /** Writes into {@code buffer} from index 0 to its capacity. The buffer must be in native byte order. */
    public MessageWriter wrap(ByteBuffer buffer) {
        return wrap(buffer, 0, buffer.capacity());
    }

    /** Writes into {@code buffer} from {@code offset}, at most {@code length} bytes. */
    public MessageWriter wrap(ByteBuffer buffer, int offset, int length) {
        if (buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("netlink buffers must be in native byte order");
        }
        if (offset < 0 || length < 0 || offset + length > buffer.capacity()) {
            throw new IndexOutOfBoundsException("region " + offset + "+" + length + " of " + buffer.capacity());
        }
        this.buffer = buffer;
        this.start = offset;
        this.limit = offset + length;
        reset();
        return this;
    }

    /** Forgets everything written: the next message starts at the beginning of the region. */
    public MessageWriter reset() {
        position = start;
        messageStart = -1;
        depth = 0;
        return this;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    /** Where the region (and so the datagram) starts. */
    public int offset() {
        return start;
    }

    /** Bytes written so far, from the start of the region: the datagram's length once finished. */
    public int length() {
        return position - start;
    }

    public int remaining() {
        return limit - position;
    }

    /** Whether {@code bytes} more bytes fit. */
    public boolean fits(int bytes) {
        return bytes <= limit - position;
    }

    /** Whether a message is begun and not yet finished. */
    public boolean inMessage() {
        return messageStart >= 0;
    }

    /** Starts a message: writes an {@code nlmsghdr} with the length left to {@link #finish()}. */
    public MessageWriter begin(int type, int flags, int seq, int portId) {
        if (messageStart >= 0) {
            throw new IllegalStateException("the previous message is not finished");
        }
        int at = NetlinkHeaderDescriptor.align(position - start) + start;
        pad(at);
        reserve(NetlinkHeaderDescriptor.SIZE);
        messageStart = position;
        buffer.putInt(position + NetlinkHeaderDescriptor.LENGTH_OFFSET, 0);
        buffer.putShort(position + NetlinkHeaderDescriptor.TYPE_OFFSET, (short) type);
        buffer.putShort(position + NetlinkHeaderDescriptor.FLAGS_OFFSET, (short) flags);
        buffer.putInt(position + NetlinkHeaderDescriptor.SEQ_OFFSET, seq);
        buffer.putInt(position + NetlinkHeaderDescriptor.PID_OFFSET, portId);
        position += NetlinkHeaderDescriptor.SIZE;
        return this;
    }

    /** Writes a {@code genlmsghdr}; call right after {@link #begin}. */
    public MessageWriter genl(int cmd, int version) {
        requireMessage();
        reserve(GenericHeaderDescriptor.SIZE);
        buffer.put(position + GenericHeaderDescriptor.CMD_OFFSET, (byte) cmd);
        buffer.put(position + GenericHeaderDescriptor.VERSION_OFFSET, (byte) version);
        buffer.putShort(position + GenericHeaderDescriptor.RESERVED_OFFSET, (short) 0);
        position += GenericHeaderDescriptor.SIZE;
        return this;
    }

    /** Sets the message's length and returns the datagram's length so far ({@link #length()}). */
    public int finish() {
        requireMessage();
        if (depth != 0) {
            throw new IllegalStateException(depth + " nested attribute(s) not ended");
        }
        buffer.putInt(messageStart + NetlinkHeaderDescriptor.LENGTH_OFFSET, position - messageStart);
        messageStart = -1;
        return length();
    }

    /**
     * Reserves {@code bytes} (a multiple of 4) at the current position for a fixed structure that is not an
     * attribute (an {@code nlmsgerr}, a family header); returns their offset for the caller to fill in.
     */
    public int reserveBytes(int bytes) {
        requireMessage();
        if (bytes < 0 || bytes % AttributeDescriptor.ALIGNTO != 0) {
            throw new IllegalArgumentException("reserve " + bytes + " bytes: not a multiple of 4");
        }
        alignPosition();
        reserve(bytes);
        int at = position;
        pad(position + bytes);
        return at;
    }

    public MessageWriter putU8(int type, int value) {
        int at = attribute(type, 1);
        buffer.put(at, (byte) value);
        return endAttribute(at, 1);
    }

    public MessageWriter putU16(int type, int value) {
        int at = attribute(type, 2);
        buffer.putShort(at, (short) value);
        return endAttribute(at, 2);
    }

    public MessageWriter putU32(int type, int value) {
        int at = attribute(type, 4);
        buffer.putInt(at, value);
        return endAttribute(at, 4);
    }

    public MessageWriter putS32(int type, int value) {
        return putU32(type, value);
    }

    public MessageWriter putU64(int type, long value) {
        int at = attribute(type, 8);
        buffer.putLong(at, value);
        return endAttribute(at, 8);
    }

    /** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING); control path only, it encodes the text. */
    public MessageWriter putString(int type, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        int at = attribute(type, bytes.length + 1);
        buffer.put(at, bytes);
        buffer.put(at + bytes.length, (byte) 0);
        return endAttribute(at, bytes.length + 1);
    }

    /** A binary attribute of {@code length} bytes copied from {@code src} (its indices, not its position). */
    public MessageWriter putBytes(int type, ByteBuffer src, int srcOffset, int length) {
        int at = attribute(type, length);
        buffer.put(at, src, srcOffset, length);
        return endAttribute(at, length);
    }

    /** Starts a nested attribute (NLA_F_NESTED is set); its length is filled in by {@link #endNest()}. */
    public MessageWriter beginNest(int type) {
        requireMessage();
        if (depth == MAX_NEST_DEPTH) {
            throw new IllegalStateException("nesting deeper than " + MAX_NEST_DEPTH);
        }
        alignPosition();
        reserve(AttributeDescriptor.HEADER_SIZE);
        nests[depth++] = position;
        buffer.putShort(position + AttributeDescriptor.LENGTH_OFFSET, (short) 0);
        buffer.putShort(position + AttributeDescriptor.TYPE_OFFSET, (short) (type | Netlink.NLA_F_NESTED));
        position += AttributeDescriptor.HEADER_SIZE;
        return this;
    }

    public MessageWriter endNest() {
        if (depth == 0) {
            throw new IllegalStateException("no nested attribute to end");
        }
        int nest = nests[--depth];
        int length = position - nest;
        if (length > AttributeDescriptor.MAX_LENGTH) {
            throw new IllegalStateException("nested attribute of " + length + " bytes exceeds nla_len's "
                    + AttributeDescriptor.MAX_LENGTH);
        }
        buffer.putShort(nest + AttributeDescriptor.LENGTH_OFFSET, (short) length);
        return this;
    }

    /** Writes an attribute header for a payload of {@code payload} bytes; returns where the payload goes. */
    private int attribute(int type, int payload) {
        requireMessage();
        if (payload < 0 || payload > AttributeDescriptor.MAX_PAYLOAD) {
            throw new IllegalArgumentException("attribute payload of " + payload + " bytes (at most "
                    + AttributeDescriptor.MAX_PAYLOAD + ")");
        }
        alignPosition();
        reserve(AttributeDescriptor.totalSize(payload));
        buffer.putShort(position + AttributeDescriptor.LENGTH_OFFSET,
                (short) (AttributeDescriptor.HEADER_SIZE + payload));
        buffer.putShort(position + AttributeDescriptor.TYPE_OFFSET, (short) type);
        return position + AttributeDescriptor.HEADER_SIZE;
    }

    private MessageWriter endAttribute(int payloadAt, int payload) {
        position = payloadAt + payload;
        int padded = payloadAt + AttributeDescriptor.align(payload);
        pad(padded);
        return this;
    }

    private void alignPosition() {
        pad(start + AttributeDescriptor.align(position - start));
    }

    /** Zeroes from the position up to {@code to} and moves there. */
    private void pad(int to) {
        if (to > limit) {
            throw new IllegalStateException("netlink buffer full: " + (to - position) + " bytes of padding do"
                    + " not fit in the " + remaining() + " left");
        }
        while (position < to) {
            buffer.put(position++, (byte) 0);
        }
    }

    private void reserve(int bytes) {
        if (bytes > limit - position) {
            throw new IllegalStateException("netlink buffer full: need " + bytes + " bytes, " + remaining()
                    + " left");
        }
    }

    private void requireMessage() {
        if (messageStart < 0) {
            throw new IllegalStateException("no message begun");
        }
    }
}
