package dev.valet.client.netlink;

/**
 * {@code struct nlmsghdr}: 16 bytes in host byte order, at the start of every netlink message.
 * <pre>
 *   0  u32 nlmsg_len    the whole message, this header included (not the padding after it)
 *   4  u16 nlmsg_type   NLMSG_* below 0x10, else the (generic netlink family) id
 *   6  u16 nlmsg_flags  NLM_F_*
 *   8  u32 nlmsg_seq
 *  12  u32 nlmsg_pid    port id of the sender (0 = the kernel)
 * </pre>
 * Messages in one datagram start at multiples of {@link #ALIGNTO}.
 */
public final class NetlinkHeaderDescriptor {
    private NetlinkHeaderDescriptor() {
    }

    public static final int LENGTH_OFFSET = 0;
    public static final int TYPE_OFFSET = 4;
    public static final int FLAGS_OFFSET = 6;
    public static final int SEQ_OFFSET = 8;
    public static final int PID_OFFSET = 12;
    public static final int SIZE = 16;
    public static final int ALIGNTO = 4;

    /** NLMSG_ALIGN. */
    public static int align(int length) {
        return (length + ALIGNTO - 1) & -ALIGNTO;
    }
}
