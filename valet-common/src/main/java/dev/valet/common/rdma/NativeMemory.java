package dev.valet.common.rdma;

import com.kenai.jffi.MemoryIO;

/**
 * Raw native memory for the structs the verbs read (work requests, scatter entries, completions, attributes),
 * accessed by absolute address so the hot path allocates nothing. Fields are host-endian, as C lays them out.
 */
public final class NativeMemory {
    private static final MemoryIO IO = MemoryIO.getInstance();

    private NativeMemory() {
    }

    /** {@code bytes} zero-filled bytes; never 0 (throws {@link OutOfMemoryError}). */
    public static long allocate(long bytes) {
        long address = IO.allocateMemory(bytes, true);
        if (address == 0) {
            throw new OutOfMemoryError("native allocation of " + bytes + " bytes failed");
        }
        return address;
    }

    public static void free(long address) {
        if (address != 0) {
            IO.freeMemory(address);
        }
    }

    public static void putLong(long base, int offset, long value) {
        IO.putLong(base + offset, value);
    }

    public static void putAddress(long base, int offset, long address) {
        IO.putAddress(base + offset, address);
    }

    public static void putInt(long base, int offset, int value) {
        IO.putInt(base + offset, value);
    }

    public static void putShort(long base, int offset, short value) {
        IO.putShort(base + offset, value);
    }

    public static void putByte(long base, int offset, byte value) {
        IO.putByte(base + offset, value);
    }

    public static long getLong(long base, int offset) {
        return IO.getLong(base + offset);
    }

    public static int getInt(long base, int offset) {
        return IO.getInt(base + offset);
    }

    public static short getShort(long base, int offset) {
        return IO.getShort(base + offset);
    }

    public static int getUnsignedByte(long base, int offset) {
        return IO.getByte(base + offset) & 0xFF;
    }

    public static long getAddress(long base, int offset) {
        return IO.getAddress(base + offset);
    }

    public static void copy(long from, long to, long bytes) {
        IO.copyMemory(from, to, bytes);
    }

    public static void zero(long address, long bytes) {
        IO.setMemory(address, bytes, (byte) 0);
    }
}
