package dev.valet.client.netlink;

import java.io.IOException;

/** A failed netlink system call, or an NLMSG_ERROR from the kernel: the message names the call and errno. */
public class NetlinkErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public NetlinkErrnoException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The positive errno. */
    public int errno() {
        return errno;
    }
}
