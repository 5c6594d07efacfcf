package dev.valet.common.posix;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * The libc calls Valet makes through jnr-ffi, all in one place. Errors come back as -1 (or MAP_FAILED) with the
 * cause in {@link jnr.ffi.Platform}'s errno ({@code Posix.errno()}).
 */
public interface LibC {
    int PROT_READ = 0x1;
    int PROT_WRITE = 0x2;
    int MAP_PRIVATE = 0x02;
    int MAP_ANONYMOUS = 0x20;
    int MAP_NORESERVE = 0x4000;
    int MADV_DONTDUMP = 16;

    LibC INSTANCE = LibraryLoader.create(LibC.class).failImmediately().load("c");

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
}
