package dev.valet.common.rdma;

/** Waits for one fd to become readable, with a timeout; its pollfd lives off-heap, so a wait allocates nothing. */
final class FdWaiter implements AutoCloseable {
    private final long pollfd = NativeMemory.allocate(PollLibC.POLLFD_SIZE);

    FdWaiter(int fd) {
        NativeMemory.putInt(pollfd, PollLibC.POLLFD_FD, fd);
        NativeMemory.putShort(pollfd, PollLibC.POLLFD_EVENTS, PollLibC.POLLIN);
    }

    /** True when the fd is readable within {@code timeoutMs}; false on timeout or EINTR. */
    boolean awaitReadable(int timeoutMs) {
        NativeMemory.putShort(pollfd, PollLibC.POLLFD_REVENTS, (short) 0);
        return PollLibC.INSTANCE.poll(pollfd, 1, timeoutMs) > 0;
    }

    @Override
    public void close() {
        NativeMemory.free(pollfd);
    }
}
