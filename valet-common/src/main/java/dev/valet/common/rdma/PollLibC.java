package dev.valet.common.rdma;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;

/** poll(2), to wait on a completion or CM event channel's fd with a timeout instead of blocking for ever. */
interface PollLibC {
    short POLLIN = 0x1;
    int POLLFD_SIZE = 8;
    int POLLFD_FD = 0;
    int POLLFD_EVENTS = 4;
    int POLLFD_REVENTS = 6;

    PollLibC INSTANCE = LibraryLoader.create(PollLibC.class).failImmediately().load("c");

    @SaveError
    int poll(@intptr_t long fds, long nfds, int timeoutMs);
}
