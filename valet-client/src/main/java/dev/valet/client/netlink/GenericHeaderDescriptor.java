package dev.valet.client.netlink;

/**
 * {@code struct genlmsghdr}: 4 bytes after the {@link NetlinkHeaderDescriptor nlmsghdr} of a generic netlink
 * message, followed by the attributes.
 * <pre>
 *   0  u8  cmd
 *   1  u8  version
 *   2  u16 reserved (0)
 * </pre>
 */
public final class GenericHeaderDescriptor {
    private GenericHeaderDescriptor() {
    }

    public static final int CMD_OFFSET = 0;
    public static final int VERSION_OFFSET = 1;
    public static final int RESERVED_OFFSET = 2;
    public static final int SIZE = 4;
}
