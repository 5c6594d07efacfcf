package dev.valet.client.kernel;

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
public final class AttributeReader {
    private ByteBuffer buffer;
    private int next;
    private int end;
    private int at = -1;
    private int length;

    /** Reads the attributes in {@code buffer[offset, offset + length)}; the buffer must be in native order. */
    public AttributeReader wrap(ByteBuffer buffer, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > buffer.capacity()) {
            throw new IndexOutOfBoundsException("region " + offset + "+" + length + " of " + buffer.capacity());
        }
        this.buffer = buffer;
        this.next = offset;
        this.end = offset + length;
        this.at = -1;
        return this;
    }

    /** Moves to the next attribute; false at the end of the region. */
    public boolean next() throws MalformedMessageException {
        int left = end - next;
        if (left == 0) {
            at = -1;
            return false;
        }
        if (left < AttributeDescriptor.HEADER_SIZE) {
            throw new MalformedMessageException(left + " trailing byte(s) after the last attribute");
        }
        int len = buffer.getShort(next + AttributeDescriptor.LENGTH_OFFSET) & 0xffff;
        if (len < AttributeDescriptor.HEADER_SIZE) {
            throw new MalformedMessageException("attribute type " + rawType(next) + " has length " + len
                    + ", less than its " + AttributeDescriptor.HEADER_SIZE + "-byte header");
        }
        if (len > left) {
            throw new MalformedMessageException("attribute type " + rawType(next) + " of length " + len
                    + " runs past the end of its message (" + left + " bytes left)");
        }
        at = next;
        length = len;
        next += Math.min(AttributeDescriptor.align(len), left);
        return true;
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

    public int payloadOffset() {
        return current() + AttributeDescriptor.HEADER_SIZE;
    }

    public int payloadLength() {
        current();
        return length - AttributeDescriptor.HEADER_SIZE;
    }

    public ByteBuffer buffer() {
        return buffer;
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

    private int current() {
        if (at < 0) {
            throw new IllegalStateException("no current attribute: call next() first");
        }
        return at;
    }
}
