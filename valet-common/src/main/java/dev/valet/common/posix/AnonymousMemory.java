package dev.valet.common.posix;

import com.kenai.jffi.MemoryIO;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import jnr.ffi.Pointer;

/**
 * A private anonymous mapping: off-heap memory that the JVM neither counts nor moves, given back to the kernel
 * the moment it is {@link #close() closed} (a direct ByteBuffer would wait for a GC). Optionally mlocked so the
 * owner's pages are never swapped out. Page-aligned, so it can later be registered for RDMA as it is.
 */
public final class AnonymousMemory implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;

    private final Pointer pointer;
    private final long size;
    private final boolean locked;
    private final ByteBuf buffer;
    private boolean closed;

    private AnonymousMemory(Pointer pointer, long size, boolean locked) {
        this.pointer = pointer;
        this.size = size;
        this.locked = locked;
        // A direct ByteBuffer view made by JNI (NewDirectByteBuffer): no JVM flags needed, never freed by the GC.
        this.buffer = Unpooled.wrappedBuffer(MemoryIO.getInstance().newDirectByteBuffer(pointer.address(), (int) size));
    }

    /**
     * Maps {@code size} bytes (zero-filled, at most 2 GiB - 1).
     *
     * @param lock mlock the mapping; if the kernel refuses, the mapping is released and this throws
     * @throws OutOfMemoryError when the kernel refuses the mapping or the lock
     */
    public static AnonymousMemory map(long size, boolean lock) {
        if (size <= 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("mapping size " + size + " outside 1.." + Integer.MAX_VALUE);
        }
        Pointer p = LIBC.mmap(null, size, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        if (p == null || p.address() == -1L) {
            throw new OutOfMemoryError(Posix.lastError("mmap(" + size + ")"));
        }
        // Lent pages are somebody else's data: keep them out of the donor's core dumps.
        LIBC.madvise(p, size, LibC.MADV_DONTDUMP);
        if (lock && LIBC.mlock(p, size) != 0) {
            String why = Posix.lastError("mlock(" + size + ")");
            LIBC.munmap(p, size);
            throw new OutOfMemoryError(why + "; raise RLIMIT_MEMLOCK or set lockMemory: false");
        }
        return new AnonymousMemory(p, size, lock);
    }

    /** The whole mapping as a non-freeing netty buffer (indices 0 .. size). Not valid after {@link #close()}. */
    public ByteBuf buffer() {
        return buffer;
    }

    public long size() {
        return size;
    }

    public long address() {
        return pointer.address();
    }

    public boolean locked() {
        return locked;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (LIBC.munmap(pointer, size) != 0) {
            throw new IllegalStateException(Posix.lastError("munmap"));
        }
    }
}
