package dev.valet.client.kernel;

import com.kenai.jffi.MemoryIO;
import dev.valet.client.netlink.Netlink;
import dev.valet.common.posix.LibC;
import dev.valet.common.posix.Posix;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import jnr.ffi.Pointer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A device's data area, mapped into this daemon: the driver's memory where every request's pages are (VALET
 * version 2). The driver allocates it with the device and frees it with the device, so it outlives daemons; the
 * attached daemon maps it shared from {@link ValetGenl#DATA_DEVICE} at {@link ValetGenl#dataMmapOffset}(index),
 * and a request's {@link ValetGenl#REQ_BUF} is a byte offset in it. A write's data is there when its IO message
 * comes; a read's data must be there before its completion goes.
 *
 * <p>{@link #buffer()} is a netty buffer over the whole mapping, handed to the engine as it is (no copy). Closing
 * unmaps it; only once no engine call can still touch it.
 */
public final class DataArea implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;

    /** Maps device {@code index}'s area of {@code bytes}; tests give the channel a simulated driver's memory. */
    @FunctionalInterface
    public interface Mapper {
        DataArea map(int index, long bytes) throws IOException;
    }

    private final int index;
    private final long bytes;
    private final ByteBuf buffer;
    private final Runnable unmap;
    private boolean closed;

    private DataArea(int index, long bytes, ByteBuf buffer, Runnable unmap) {
        this.index = index;
        this.bytes = bytes;
        this.buffer = buffer;
        this.unmap = unmap;
    }

    /** Maps /dev/valet{@code index}'s area of {@code bytes} from {@link ValetGenl#DATA_DEVICE}. */
    public static DataArea map(int index, long bytes) throws IOException {
        return map(Path.of(ValetGenl.DATA_DEVICE), index, bytes);
    }

    /**
     * Maps {@code bytes} of {@code device} (read and write, shared) at {@link ValetGenl#dataMmapOffset}(index).
     *
     * @throws IOException naming the device, the file and errno when open or mmap fails
     */
    static DataArea map(Path device, int index, long bytes) throws IOException {
        if (bytes <= 0 || bytes > ValetGenl.MAX_DATA_BYTES || index < 0) {
            throw new IllegalArgumentException("data area of " + bytes + " bytes for /dev/valet" + index);
        }
        long offset = ValetGenl.dataMmapOffset(index);
        int fd = LIBC.open(device.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw failure("open(" + device + ", O_RDWR)", index, device, Posix.errno());
        }
        try {
            Pointer p = LIBC.mmap(null, bytes, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, offset);
            if (p == null || p.address() == -1L) {
                throw failure("mmap(" + bytes + " bytes at offset " + index + " << " + ValetGenl.DATA_MMAP_SHIFT
                        + ")", index, device, Posix.errno());
            }
            ByteBuf buffer = Unpooled.wrappedBuffer(MemoryIO.getInstance().newDirectByteBuffer(p.address(),
                    (int) bytes));
            return new DataArea(index, bytes, buffer, () -> {
                if (LIBC.munmap(p, bytes) != 0) {
                    throw new IllegalStateException(Posix.lastError("munmap(data area of /dev/valet" + index + ")"));
                }
            });
        } finally {
            LIBC.close(fd); // the mapping keeps what it needs
        }
    }

    /** An area over memory the caller owns (a simulated driver's); {@code unmap} runs on the first close. */
    static DataArea over(int index, ByteBuf buffer, long bytes, Runnable unmap) {
        if (bytes <= 0 || bytes > buffer.capacity()) {
            throw new IllegalArgumentException(bytes + " bytes over a buffer of " + buffer.capacity());
        }
        return new DataArea(index, bytes, buffer, unmap);
    }

    static IOException failure(String call, int index, Path device, int errno) {
        String hint = switch (errno) {
            case Netlink.EPERM, Netlink.EACCES -> ": only the attached daemon may map the data area (run as root,"
                    + " attached to the device)";
            case Netlink.ENOENT -> ": is valet.ko of VALET version " + ValetGenl.GENL_VERSION + " loaded?"
                    + " (setup/module.sh load)";
            case Netlink.ENXIO, Netlink.ENODEV, Netlink.EINVAL -> ": the driver has no data area of that size for"
                    + " /dev/valet" + index;
            default -> "";
        };
        return new IOException("cannot map the data area of /dev/valet" + index + " from " + device + ": " + call
                + " failed: " + LIBC.strerror(errno) + " (errno " + errno + ")" + hint);
    }

    /** N of the /dev/valetN whose area this is. */
    public int index() {
        return index;
    }

    /** The mapped length: requests' BUF + LENGTH must not pass it. */
    public long bytes() {
        return bytes;
    }

    /** The whole area as a non-freeing netty buffer (indices 0 .. {@link #bytes()}). Not valid after close. */
    public ByteBuf buffer() {
        return buffer;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            unmap.run();
        }
    }
}
