package dev.valet.client.netlink;

/**
 * Constants of the Linux netlink and generic netlink ABI ({@code linux/netlink.h}, {@code linux/genetlink.h})
 * and the errno values netlink users meet. The layouts are in the {@code *Descriptor} classes.
 */
public final class Netlink {
    private Netlink() {
    }

    /** {@code socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC)}. */
    public static final int NETLINK_GENERIC = 16;

    // nlmsghdr.nlmsg_flags
    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_MULTI = 0x2;
    public static final int NLM_F_ACK = 0x4;
    /** In an NLMSG_ERROR: the echoed request is cut to its header (NETLINK_CAP_ACK). */
    public static final int NLM_F_CAPPED = 0x100;
    /** In an NLMSG_ERROR: extended-ack attributes follow the echoed request (NETLINK_EXT_ACK). */
    public static final int NLM_F_ACK_TLVS = 0x200;
    /** NLM_F_ROOT | NLM_F_MATCH. */
    public static final int NLM_F_DUMP = 0x300;

    // nlmsghdr.nlmsg_type below NLMSG_MIN_TYPE
    public static final int NLMSG_NOOP = 1;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLMSG_OVERRUN = 4;
    public static final int NLMSG_MIN_TYPE = 0x10;

    // nlattr.nla_type flag bits
    public static final int NLA_F_NESTED = 0x8000;
    public static final int NLA_F_NET_BYTEORDER = 0x4000;
    public static final int NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

    // setsockopt(SOL_NETLINK, ...)
    public static final int SOL_NETLINK = 270;
    /** Error acks echo only the request's header, not its (possibly large) payload. */
    public static final int NETLINK_CAP_ACK = 10;
    /** Error acks carry the kernel's message (NL_SET_ERR_MSG) as NLMSGERR_ATTR_MSG. */
    public static final int NETLINK_EXT_ACK = 11;
    /** Extended-ack attribute: a NUL-terminated message. */
    public static final int NLMSGERR_ATTR_MSG = 1;

    // The generic netlink controller ("nlctrl").
    public static final int GENL_ID_CTRL = 0x10;
    public static final String GENL_CTRL_NAME = "nlctrl";
    public static final int CTRL_CMD_NEWFAMILY = 1;
    public static final int CTRL_CMD_GETFAMILY = 3;
    public static final int CTRL_ATTR_FAMILY_ID = 1;
    public static final int CTRL_ATTR_FAMILY_NAME = 2;
    public static final int CTRL_ATTR_VERSION = 3;
    public static final int CTRL_ATTR_HDRSIZE = 4;
    public static final int CTRL_ATTR_MAXATTR = 5;
    /** Version put in requests to nlctrl. */
    public static final int CTRL_VERSION = 2;

    // errno (Linux, all architectures Valet runs on)
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EPERM = 1;
    public static final int EBUSY = 16;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EPROTO = 71;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOBUFS = 105;
}
