package dev.valet.client.netlink;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over the attributes in a region of a buffer (a flyweight: {@link #wrap} it, then {@link #next()}
 * until false). Every length is checked against the region before anything is read: an attribute shorter than
 * its header, one that runs past the region, bytes left over that cannot be an attribute, a fixed-size value of
 * the wrong size, all throw {@link MalformedMessageException}. A nested attribute is read by wrapping another
 * reader around its payload ({@link #nested}), which checks the nest in turn.
 *
 * <p>The final attribute's padding may be missing (the kernel's own parser allows that).
 */
public final class AttributeReader extends RecordCursor {
    public AttributeReader() {
        super(AttributeDescriptor.HEADER_SIZE, "attribute", "attribute");
    }

    /** Reads the attributes in {@code buffer[offset, offset + length)}; the buffer must be in native order. */
    public AttributeReader wrap(ByteBuffer buffer, int offset, int length) {
        reset(buffer, offset, length);
        return this;
    }

    @Override
    int lengthAt(int offset) {
        return buffer.getShort(offset + AttributeDescriptor.LENGTH_OFFSET) & 0xffff;
    }

    @Override
    int align(int len) {
        return AttributeDescriptor.align(len);
    }

    @Override
    MalformedMessageException shorterThanHeader(int offset, int len) {
        return new MalformedMessageException("attribute type " + rawType(offset) + " has length " + len
                + ", less than its " + AttributeDescriptor.HEADER_SIZE + "-byte header");
    }

    @Override
    MalformedMessageException runsPastEnd(int offset, int len, int left) {
        return new MalformedMessageException("attribute type " + rawType(offset) + " of length " + len
                + " runs past the end of its message (" + left + " bytes left)");
    }

    private int rawType(int offset) {
        return buffer.getShort(offset + AttributeDescriptor.TYPE_OFFSET) & Netlink.NLA_TYPE_MASK;
    }

    /** The current attribute's type, without the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits. */
    public int type() {
        return rawType(current());
    }

    /** Whether the sender marked the attribute NLA_F_NESTED. */
    public boolean markedNested() {
        return (buffer.getShort(current() + AttributeDescriptor.TYPE_OFFSET) & Netlink.NLA_F_NESTED) != 0;
    }

    public int u8() throws MalformedMessageException {
        return buffer.get(payload(1)) & 0xff;
    }

    public int u16() throws MalformedMessageException {
        return buffer.getShort(payload(2)) & 0xffff;
    }

    /** A u32 (as a Java int: compare unsigned, or use {@link #u32AsLong()}). */
    public int u32() throws MalformedMessageException {
        return buffer.getInt(payload(4));
    }

    public long u32AsLong() throws MalformedMessageException {
        return u32() & 0xffffffffL;
    }

    public int s32() throws MalformedMessageException {
        return buffer.getInt(payload(4));
    }

    public long u64() throws MalformedMessageException {
        return buffer.getLong(payload(8));
    }

    /** A NUL-terminated string (control path only: it allocates). */
    public String string() throws MalformedMessageException {
        int from = payloadOffset();
        int to = from + payloadLength();
        for (int i = from; i < to; i++) {
            if (buffer.get(i) == 0) {
                byte[] bytes = new byte[i - from];
                buffer.get(from, bytes);
                return new String(bytes, StandardCharsets.UTF_8);
            }
        }
        throw new MalformedMessageException("string attribute type " + type() + " has no NUL terminator");
    }

    /** Points {@code child} at this attribute's payload, which must itself be attributes. */
    public AttributeReader nested(AttributeReader child) {
        return child.wrap(buffer, payloadOffset(), payloadLength());
    }

    private int payload(int size) throws MalformedMessageException {
        int offset = payloadOffset();
        if (payloadLength() != size) {
            throw new MalformedMessageException("attribute type " + type() + " has " + payloadLength()
                    + " byte(s) of payload, expected " + size);
        }
        return offset;
    }
}
