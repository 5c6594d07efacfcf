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
 * One of a device's areas of driver memory, mapped into this daemon. The driver allocates each with the device and
 * frees it with the device, so it outlives daemons; the attached daemon maps it shared from
 * {@link ValetGenl#DATA_DEVICE}, each kind at its own offset ({@link Kind}):
 * <ul>
 *   <li>the <b>data area</b> (VALET version 2) is where every request's pages are: a request's
 *       {@link ValetGenl#REQ_BUF} is a byte offset in it. A write's data is there when its IO message comes; a
 *       read's data must be there before its completion goes.</li>
 *   <li>the <b>tier area</b> (version 3, optional) is the host tier's memory. The driver never reads or writes it:
 *       what the daemon keeps there survives the daemon (a SIGKILL included) and is never swapped out.</li>
 * </ul>
 *
 * <p>{@link #buffer()} is a netty buffer over the whole mapping, handed to the engine or the tier as it is (no
 * copy). Closing unmaps it; only once nothing can still touch it.
 */
public final class DataArea implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;

    /** Which of a device's areas: where it is in {@link ValetGenl#DATA_DEVICE} and how large it may be. */
    public enum Kind {
        /** The requests' pages ({@link ValetGenl#ATTR_DATA_BYTES}). */
        DATA("data area", ValetGenl.MAX_DATA_BYTES, " << " + ValetGenl.DATA_MMAP_SHIFT),
        /** The host tier's memory ({@link ValetGenl#ATTR_TIER_BYTES}). */
        TIER("tier area", ValetGenl.MAX_TIER_BYTES, " << " + ValetGenl.DATA_MMAP_SHIFT + " | 1 << "
                + ValetGenl.TIER_MMAP_SHIFT);

        private final String what;
        private final long maxBytes;
        private final String offsetText;

        Kind(String what, long maxBytes, String offsetText) {
            this.what = what;
            this.maxBytes = maxBytes;
            this.offsetText = offsetText;
        }

        /** Where device {@code index}'s area of this kind is in {@link ValetGenl#DATA_DEVICE}. */
        long offset(int index) {
            return this == DATA ? ValetGenl.dataMmapOffset(index) : ValetGenl.tierMmapOffset(index);
        }

        /** "data area" or "tier area", for messages. */
        String what() {
            return what;
        }
    }

    /** Maps device {@code index}'s area of {@code bytes}; tests give the channel a simulated driver's memory. */
    @FunctionalInterface
    public interface Mapper {
        DataArea map(Kind kind, int index, long bytes) throws IOException;
    }

    private final Kind kind;
    private final int index;
    private final long bytes;
    private final ByteBuf buffer;
    private final Runnable unmap;
    private boolean closed;

    private DataArea(Kind kind, int index, long bytes, ByteBuf buffer, Runnable unmap) {
        this.kind = kind;
        this.index = index;
        this.bytes = bytes;
        this.buffer = buffer;
        this.unmap = unmap;
    }

    /** Maps /dev/valet{@code index}'s data area of {@code bytes} from {@link ValetGenl#DATA_DEVICE}. */
    public static DataArea map(int index, long bytes) throws IOException {
        return map(Kind.DATA, index, bytes);
    }

    /** Maps /dev/valet{@code index}'s area of {@code kind} and {@code bytes} from {@link ValetGenl#DATA_DEVICE}. */
    public static DataArea map(Kind kind, int index, long bytes) throws IOException {
        return map(Path.of(ValetGenl.DATA_DEVICE), kind, index, bytes);
    }

    /** {@link #map(Path, Kind, int, long)} of the data area. */
    static DataArea map(Path device, int index, long bytes) throws IOException {
        return map(device, Kind.DATA, index, bytes);
    }

    /**
     * Maps {@code bytes} of {@code device} (read and write, shared) at the offset of {@code kind} for {@code index}:
     * the one piece of code that maps driver memory.
     *
     * @throws IOException naming the area, the device, the file and errno when open or mmap fails
     */
    static DataArea map(Path device, Kind kind, int index, long bytes) throws IOException {
        if (bytes <= 0 || bytes > kind.maxBytes || index < 0) {
            throw new IllegalArgumentException(kind.what + " of " + bytes + " bytes for /dev/valet" + index);
        }
        long offset = kind.offset(index);
        int fd = LIBC.open(device.toString(), LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw failure(kind, "open(" + device + ", O_RDWR)", index, device, Posix.errno());
        }
        try {
            Pointer p = LIBC.mmap(null, bytes, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, offset);
            if (p == null || p.address() == -1L) {
                throw failure(kind, "mmap(" + bytes + " bytes at offset " + index + kind.offsetText + ")", index,
                        device, Posix.errno());
            }
            ByteBuf buffer = Unpooled.wrappedBuffer(MemoryIO.getInstance().newDirectByteBuffer(p.address(),
                    (int) bytes));
            return new DataArea(kind, index, bytes, buffer, () -> {
                if (LIBC.munmap(p, bytes) != 0) {
                    throw new IllegalStateException(Posix.lastError("munmap(" + kind.what + " of /dev/valet" + index
                            + ")"));
                }
            });
        } finally {
            LIBC.close(fd); // the mapping keeps what it needs
        }
    }

    /** A data area over memory the caller owns (a simulated driver's); {@code unmap} runs on the first close. */
    static DataArea over(int index, ByteBuf buffer, long bytes, Runnable unmap) {
        return over(Kind.DATA, index, buffer, bytes, unmap);
    }

    /** An area of {@code kind} over memory the caller owns; {@code unmap} runs on the first close. */
    static DataArea over(Kind kind, int index, ByteBuf buffer, long bytes, Runnable unmap) {
        if (bytes <= 0 || bytes > buffer.capacity()) {
            throw new IllegalArgumentException(bytes + " bytes over a buffer of " + buffer.capacity());
        }
        return new DataArea(kind, index, bytes, buffer, unmap);
    }

    /** Why the data area could not be mapped. */
    static IOException failure(String call, int index, Path device, int errno) {
        return failure(Kind.DATA, call, index, device, errno);
    }

    static IOException failure(Kind kind, String call, int index, Path device, int errno) {
        String hint = switch (errno) {
            case Netlink.EPERM, Netlink.EACCES -> ": only the attached daemon may map the " + kind.what + " (run as"
                    + " root, attached to the device)";
            case Netlink.ENOENT -> ": is valet.ko of VALET version " + ValetGenl.GENL_VERSION + " loaded?"
                    + " (setup/module.sh load)";
            case Netlink.ENXIO, Netlink.ENODEV, Netlink.EINVAL -> ": the driver has no " + kind.what + " of that size"
                    + " for /dev/valet" + index;
            default -> "";
        };
        return new IOException("cannot map the " + kind.what + " of /dev/valet" + index + " from " + device + ": "
                + call + " failed: " + LIBC.strerror(errno) + " (errno " + errno + ")" + hint);
    }

    /** Which of the device's areas this is. */
    public Kind kind() {
        return kind;
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
