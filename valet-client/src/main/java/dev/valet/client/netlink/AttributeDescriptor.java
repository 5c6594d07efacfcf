package dev.valet.client.netlink;

/**
 * {@code struct nlattr}: a 4-byte header, then the payload, then padding to {@link #ALIGNTO}.
 * <pre>
 *   0  u16 nla_len   header + payload, without the padding; at most 65535
 *   2  u16 nla_type  type, plus NLA_F_NESTED when the payload is itself attributes
 * </pre>
 */
public final class AttributeDescriptor {
    private AttributeDescriptor() {
    }

    public static final int LENGTH_OFFSET = 0;
    public static final int TYPE_OFFSET = 2;
    public static final int HEADER_SIZE = 4;
    public static final int ALIGNTO = 4;
    /** nla_len is a u16: the most a single attribute, header included, can span. */
    public static final int MAX_LENGTH = 0xffff;
    /** The largest payload one attribute (nested or not) can carry. */
    public static final int MAX_PAYLOAD = MAX_LENGTH - HEADER_SIZE;

    /** NLA_ALIGN. */
    public static int align(int length) {
        return (length + ALIGNTO - 1) & -ALIGNTO;
    }

    /** nla_total_size: header, payload and padding. */
    public static int totalSize(int payload) {
        return align(HEADER_SIZE + payload);
    }
}
