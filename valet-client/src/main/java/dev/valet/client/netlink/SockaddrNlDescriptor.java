package dev.valet.client.netlink;

/**
 * {@code struct sockaddr_nl}: 12 bytes.
 * <pre>
 *   0  u16 nl_family  AF_NETLINK
 *   2  u16 nl_pad
 *   4  u32 nl_pid     port id; 0 is the kernel
 *   8  u32 nl_groups  multicast groups
 * </pre>
 */
public final class SockaddrNlDescriptor {
    private SockaddrNlDescriptor() {
    }

    public static final int FAMILY_OFFSET = 0;
    public static final int PAD_OFFSET = 2;
    public static final int PID_OFFSET = 4;
    public static final int GROUPS_OFFSET = 8;
    public static final int SIZE = 12;
}
