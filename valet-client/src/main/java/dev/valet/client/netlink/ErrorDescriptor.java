package dev.valet.client.netlink;

/**
 * {@code struct nlmsgerr}: the payload of an {@link Netlink#NLMSG_ERROR} message, an acknowledgement when
 * {@code error} is 0.
 * <pre>
 *   0  s32       error  0 or a negative errno
 *   4  nlmsghdr  msg    the request's header, and its payload unless NLM_F_CAPPED
 *   ..           extended-ack attributes when NLM_F_ACK_TLVS (NLMSGERR_ATTR_MSG: the kernel's message)
 * </pre>
 */
public final class ErrorDescriptor {
    private ErrorDescriptor() {
    }

    public static final int ERROR_OFFSET = 0;
    public static final int REQUEST_OFFSET = 4;
    /** The least an error payload holds: the error and the echoed header. */
    public static final int MIN_SIZE = REQUEST_OFFSET + NetlinkHeaderDescriptor.SIZE;
}
