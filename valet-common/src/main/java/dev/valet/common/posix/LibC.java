package dev.valet.common.posix;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.intptr_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.socklen_t;
import jnr.ffi.types.ssize_t;
import jnr.ffi.types.u_int64_t;

/**
 * The libc calls Valet makes through jnr-ffi, all in one place. Errors come back as -1 (or MAP_FAILED) with the
 * cause in {@link jnr.ffi.Platform}'s errno ({@code Posix.errno()}).
 */
public interface LibC {
    int PROT_READ = 0x1;
    int PROT_WRITE = 0x2;
    int MAP_SHARED = 0x01;
    int MAP_PRIVATE = 0x02;
    int MAP_ANONYMOUS = 0x20;
    int MAP_NORESERVE = 0x4000;
    int MADV_DONTDUMP = 16;

    /** {@link #open} flags (Linux values). */
    int O_RDWR = 0x2;
    int O_CLOEXEC = 0x80000;

    /** {@link #mlockall} flags: lock what is mapped now, and everything mapped later. */
    int MCL_CURRENT = 1;
    int MCL_FUTURE = 2;
    /** {@link #prctl} option: this process writes out pages for the kernel (Linux 5.6+). */
    int PR_SET_IO_FLUSHER = 57;

    /** Sockets (Linux values; jnr-posix has no AF_NETLINK). */
    int AF_NETLINK = 16;
    int SOCK_RAW = 3;
    int SOCK_CLOEXEC = 0x80000;
    int SOL_SOCKET = 1;
    int SO_SNDBUF = 7;
    int SO_RCVBUF = 8;
    int SO_RCVTIMEO = 20;
    int SO_SNDBUFFORCE = 32;
    int SO_RCVBUFFORCE = 33;
    int MSG_TRUNC = 0x20;

    /** poll(2): struct pollfd is {@code int fd; short events; short revents}. */
    short POLLIN = 0x1;
    int POLLFD_SIZE = 8;
    int POLLFD_FD = 0;
    int POLLFD_EVENTS = 4;
    int POLLFD_REVENTS = 6;

    LibC INSTANCE = LibraryLoader.create(LibC.class).failImmediately().load("c");

    /** open(2) without O_CREAT (so without a mode); returns the descriptor, or -1. */
    @SaveError
    int open(String path, int flags);

    @SaveError
    Pointer mmap(Pointer addr, @size_t long length, int prot, int flags, int fd, long offset);

    @SaveError
    int munmap(Pointer addr, @size_t long length);

    @SaveError
    int mlock(Pointer addr, @size_t long length);

    @SaveError
    int munlock(Pointer addr, @size_t long length);

    @SaveError
    int madvise(Pointer addr, @size_t long length, int advice);

    String strerror(int errnum);

    @SaveError
    int mlockall(int flags);

    /** prctl(2) with all four optional arguments (pass 0 for the unused ones). */
    @SaveError
    int prctl(int option, @u_int64_t long arg2, @u_int64_t long arg3, @u_int64_t long arg4, @u_int64_t long arg5);

    // The socket calls take raw addresses (of direct buffers or mappings), so that a call allocates nothing.

    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int bind(int fd, @intptr_t long addr, @socklen_t int addrlen);

    /** {@code addrlen} points to a socklen_t (in: the buffer size, out: the address size). */
    @SaveError
    int getsockname(int fd, @intptr_t long addr, @intptr_t long addrlen);

    @SaveError
    int setsockopt(int fd, int level, int optname, @intptr_t long optval, @socklen_t int optlen);

    /** {@code optlen} points to a socklen_t (in: the buffer size, out: the value size). */
    @SaveError
    int getsockopt(int fd, int level, int optname, @intptr_t long optval, @intptr_t long optlen);

    @SaveError
    int connect(int fd, @intptr_t long addr, @socklen_t int addrlen);

    // send and recv rather than sendto and recvfrom: jnr-ffi 2.3.4 passes a sixth argument wrongly (seen as
    // garbage in strace), so connect() fixes the peer and these four-argument calls do the rest.

    @SaveError
    @ssize_t long send(int fd, @intptr_t long buf, @size_t long len, int flags);

    @SaveError
    @ssize_t long recv(int fd, @intptr_t long buf, @size_t long len, int flags);

    @SaveError
    int close(int fd);

    /** {@code fds} points to {@code nfds} struct pollfd; returns how many have events, 0 on timeout, -1 on error. */
    @SaveError
    int poll(@intptr_t long fds, @u_int64_t long nfds, int timeoutMs);

    int EFD_NONBLOCK = 0x800;
    int EFD_CLOEXEC = 0x80000;

    /** eventfd(2): a counter readable as an fd, for waking a thread that waits in {@link #poll}. */
    @SaveError
    int eventfd(int initval, int flags);

    @SaveError
    @ssize_t long read(int fd, @intptr_t long buf, @size_t long count);

    @SaveError
    @ssize_t long write(int fd, @intptr_t long buf, @size_t long count);
}
