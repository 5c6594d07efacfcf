package dev.valet.common.rdma;

import dev.valet.common.posix.LibC;

/**
 * Waits for one fd, or either of two, to become readable, with a timeout; its pollfds live off-heap, so a wait
 * allocates nothing.
 */
final class FdWaiter implements AutoCloseable {
    private final long pollfds = NativeMemory.allocate(2L * LibC.POLLFD_SIZE);
    private int count;

    FdWaiter(int fd) {
        set(0, fd);
        count = 1;
    }

    /** From now on a wait also ends when {@code fd} is readable. */
    void alsoOn(int fd) {
        set(1, fd);
        count = 2;
    }

    private void set(int i, int fd) {
        long p = pollfds + (long) i * LibC.POLLFD_SIZE;
        NativeMemory.putInt(p, LibC.POLLFD_FD, fd);
        NativeMemory.putShort(p, LibC.POLLFD_EVENTS, LibC.POLLIN);
    }

    /** True when an fd is readable within {@code timeoutMs}; false on timeout or EINTR. */
    boolean awaitReadable(int timeoutMs) {
        for (int i = 0; i < count; i++) {
            NativeMemory.putShort(pollfds + (long) i * LibC.POLLFD_SIZE, LibC.POLLFD_REVENTS, (short) 0);
        }
        return LibC.INSTANCE.poll(pollfds, count, timeoutMs) > 0;
    }

    /** Whether the first fd was readable at the last {@link #awaitReadable}. */
    boolean firstReadable() {
        return NativeMemory.getShort(pollfds, LibC.POLLFD_REVENTS) != 0;
    }

    @Override
    public void close() {
        NativeMemory.free(pollfds);
    }
}
