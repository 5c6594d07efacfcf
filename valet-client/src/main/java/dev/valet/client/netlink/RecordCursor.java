package dev.valet.client.netlink;

import java.nio.ByteBuffer;

/**
 * A cursor over length-prefixed records laid end to end in a region of a buffer: netlink messages in a datagram
 * ({@link MessageReader}) and attributes in a message or nest ({@link AttributeReader}) share this framing. A
 * flyweight: wrap a region, then {@link #next()} until false. Every length is checked against the region before
 * anything is read: a record shorter than its header, one that runs past the region, or bytes left over that
 * cannot be a record, all throw {@link MalformedMessageException}. The last record's padding may be missing.
 */
abstract class RecordCursor {
    private final int headerSize;
    private final String name;
    private final String noun;
    ByteBuffer buffer;
    private int next;
    private int end;
    private int at = -1;
    int length;

    /**
     * @param headerSize the record header, which every record's length includes
     * @param name       what a record is, in messages ("netlink message")
     * @param noun       its short name, in the message for a misuse ("message")
     */
    RecordCursor(int headerSize, String name, String noun) {
        this.headerSize = headerSize;
        this.name = name;
        this.noun = noun;
    }

    /** Reads the records in {@code buffer[offset, offset + length)}; the buffer must be in native order. */
    final void reset(ByteBuffer buffer, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > buffer.capacity()) {
            throw new IndexOutOfBoundsException("region " + offset + "+" + length + " of " + buffer.capacity());
        }
        this.buffer = buffer;
        this.next = offset;
        this.end = offset + length;
        this.at = -1;
    }

    /** The length field of the record at {@code offset}. */
    abstract int lengthAt(int offset);

    /** {@code length} rounded up to where the next record starts. */
    abstract int align(int length);

    /** The error for a record at {@code offset} whose length {@code len} is less than its header. */
    abstract MalformedMessageException shorterThanHeader(int offset, int len);

    /** The error for a record at {@code offset} of length {@code len} with only {@code left} bytes left. */
    abstract MalformedMessageException runsPastEnd(int offset, int len, int left);

    /** Moves to the next record; false at the end of the region. */
    public final boolean next() throws MalformedMessageException {
        int left = end - next;
        if (left == 0) {
            at = -1;
            return false;
        }
        if (left < headerSize) {
            throw new MalformedMessageException(left + " trailing byte(s) after the last " + name);
        }
        int len = lengthAt(next);
        if (len < headerSize) {
            throw shorterThanHeader(next, len);
        }
        if (len > left) {
            throw runsPastEnd(next, len, left);
        }
        at = next;
        length = len;
        next += Math.min(align(len), left);
        return true;
    }

    public final int payloadOffset() {
        return current() + headerSize;
    }

    public final int payloadLength() {
        current();
        return length - headerSize;
    }

    public final ByteBuffer buffer() {
        return buffer;
    }

    /** Where the current record starts. */
    final int current() {
        if (at < 0) {
            throw new IllegalStateException("no current " + noun + ": call next() first");
        }
        return at;
    }
}
