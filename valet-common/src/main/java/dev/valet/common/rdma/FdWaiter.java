package dev.valet.common.rdma;

import dev.valet.common.posix.LibC;

/** Waits for one fd to become readable, with a timeout; its pollfd lives off-heap, so a wait allocates nothing. */
final class FdWaiter implements AutoCloseable {
    private final long pollfd = NativeMemory.allocate(LibC.POLLFD_SIZE);

    FdWaiter(int fd) {
        NativeMemory.putInt(pollfd, LibC.POLLFD_FD, fd);
        NativeMemory.putShort(pollfd, LibC.POLLFD_EVENTS, LibC.POLLIN);
    }

    /** True when the fd is readable within {@code timeoutMs}; false on timeout or EINTR. */
    boolean awaitReadable(int timeoutMs) {
        NativeMemory.putShort(pollfd, LibC.POLLFD_REVENTS, (short) 0);
        return LibC.INSTANCE.poll(pollfd, 1, timeoutMs) > 0;
    }

    @Override
    public void close() {
        NativeMemory.free(pollfd);
    }
}
