package dev.valet.client.netlink;

import java.nio.ByteBuffer;

/**
 * A cursor over the netlink messages of one received datagram (a flyweight: {@link #wrap}, then {@link #next()}
 * until false), with accessors for the {@code nlmsghdr}, the {@code genlmsghdr}, the attributes and the
 * {@code nlmsgerr} of an error or acknowledgement. Lengths are checked before anything is read; a message that
 * claims more bytes than the datagram holds, or is too short for the header it must have, throws
 * {@link MalformedMessageException}.
 */
public final class MessageReader extends RecordCursor {
    public MessageReader() {
        super(NetlinkHeaderDescriptor.SIZE, "netlink message", "message");
    }

    /** Reads the messages in {@code buffer[offset, offset + length)}; the buffer must be in native order. */
    public MessageReader wrap(ByteBuffer buffer, int offset, int length) {
        reset(buffer, offset, length);
        return this;
    }

    @Override
    int lengthAt(int offset) {
        return buffer.getInt(offset + NetlinkHeaderDescriptor.LENGTH_OFFSET);
    }

    @Override
    int align(int len) {
        return NetlinkHeaderDescriptor.align(len);
    }

    @Override
    MalformedMessageException shorterThanHeader(int offset, int len) {
        return new MalformedMessageException("netlink message of length " + Integer.toUnsignedString(len)
                + ", less than its " + NetlinkHeaderDescriptor.SIZE + "-byte header");
    }

    @Override
    MalformedMessageException runsPastEnd(int offset, int len, int left) {
        return new MalformedMessageException("netlink message of length " + len + " runs past the end of the"
                + " datagram (" + left + " bytes left)");
    }

    /** The current message's nlmsg_len. */
    public int length() {
        current();
        return length;
    }

    public int type() {
        return buffer.getShort(current() + NetlinkHeaderDescriptor.TYPE_OFFSET) & 0xffff;
    }

    public int flags() {
        return buffer.getShort(current() + NetlinkHeaderDescriptor.FLAGS_OFFSET) & 0xffff;
    }

    public int seq() {
        return buffer.getInt(current() + NetlinkHeaderDescriptor.SEQ_OFFSET);
    }

    public int portId() {
        return buffer.getInt(current() + NetlinkHeaderDescriptor.PID_OFFSET);
    }

    /** The genlmsghdr command. */
    public int command() throws MalformedMessageException {
        return buffer.get(genl() + GenericHeaderDescriptor.CMD_OFFSET) & 0xff;
    }

    /** The genlmsghdr version. */
    public int version() throws MalformedMessageException {
        return buffer.get(genl() + GenericHeaderDescriptor.VERSION_OFFSET) & 0xff;
    }

    /** Points {@code reader} at the attributes after the genlmsghdr. */
    public AttributeReader attributes(AttributeReader reader) throws MalformedMessageException {
        int genl = genl();
        return reader.wrap(buffer, genl + GenericHeaderDescriptor.SIZE,
                payloadLength() - GenericHeaderDescriptor.SIZE);
    }

    private int genl() throws MalformedMessageException {
        if (payloadLength() < GenericHeaderDescriptor.SIZE) {
            throw new MalformedMessageException("generic netlink message of length " + length
                    + " has no room for its genlmsghdr");
        }
        return payloadOffset();
    }

    public boolean isError() {
        return type() == Netlink.NLMSG_ERROR;
    }

    /** An NLMSG_ERROR's error: 0 for an acknowledgement, else a negative errno. */
    public int error() throws MalformedMessageException {
        return buffer.getInt(errorPayload() + ErrorDescriptor.ERROR_OFFSET);
    }

    /** The sequence number of the request an NLMSG_ERROR answers (as echoed in it). */
    public int errorRequestSeq() throws MalformedMessageException {
        return buffer.getInt(errorPayload() + ErrorDescriptor.REQUEST_OFFSET + NetlinkHeaderDescriptor.SEQ_OFFSET);
    }

    /**
     * The kernel's extended-ack message (NLMSGERR_ATTR_MSG) of an NLMSG_ERROR, or null when it sent none
     * (control path only: it allocates).
     */
    public String errorMessage() throws MalformedMessageException {
        int payload = errorPayload();
        if ((flags() & Netlink.NLM_F_ACK_TLVS) == 0) {
            return null;
        }
        int echoed = NetlinkHeaderDescriptor.SIZE;
        if ((flags() & Netlink.NLM_F_CAPPED) == 0) {
            echoed = buffer.getInt(payload + ErrorDescriptor.REQUEST_OFFSET + NetlinkHeaderDescriptor.LENGTH_OFFSET);
        }
        if (echoed < NetlinkHeaderDescriptor.SIZE || echoed > payloadLength() - ErrorDescriptor.REQUEST_OFFSET) {
            throw new MalformedMessageException("extended ack: echoed request of " + Integer.toUnsignedString(echoed)
                    + " bytes does not fit in the error's " + payloadLength() + " bytes");
        }
        int tlvs = ErrorDescriptor.REQUEST_OFFSET + NetlinkHeaderDescriptor.align(echoed);
        if (tlvs >= payloadLength()) {
            return null;
        }
        AttributeReader attributes = new AttributeReader().wrap(buffer, payload + tlvs, payloadLength() - tlvs);
        while (attributes.next()) {
            if (attributes.type() == Netlink.NLMSGERR_ATTR_MSG) {
                return attributes.string();
            }
        }
        return null;
    }

    private int errorPayload() throws MalformedMessageException {
        if (!isError()) {
            throw new IllegalStateException("message type " + type() + " is not NLMSG_ERROR");
        }
        if (payloadLength() < ErrorDescriptor.MIN_SIZE) {
            throw new MalformedMessageException("NLMSG_ERROR of length " + length + " has no room for nlmsgerr");
        }
        return payloadOffset();
    }

    /** For messages: "text (the kernel says: ...)" when the kernel gave an extended-ack message. */
    static String withKernelMessage(String text, String kernelMessage) {
        return kernelMessage == null || kernelMessage.isEmpty() ? text
                : text + " (the kernel says: " + kernelMessage + ")";
    }
}
