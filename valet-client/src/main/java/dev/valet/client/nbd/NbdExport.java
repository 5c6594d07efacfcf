package dev.valet.client.nbd;

/**
 * What one connection serves: an export of {@code size} bytes (a multiple of 4096) whose requests carry at most
 * {@code maxRequestBytes} (a multiple of 4096), with up to {@code slots + smallSlots} requests in flight per
 * connection: {@code slots} of any size, and {@code smallSlots} more for requests of at most
 * {@link #SMALL_REQUEST_BYTES} (a page-sized READ or WRITE, a FLUSH, a TRIM), so that a queue of small requests is
 * not held to the few buffers large requests can afford.
 *
 * @param name            the export's name, as NBD_OPT_LIST tells it (every name a client asks for gets this
 *                        export)
 * @param size            bytes in the export
 * @param maxRequestBytes largest READ or WRITE, advertised as the maximum block size
 * @param slots           requests of any size in flight per connection; each has a buffer of
 *                        {@code maxRequestBytes}
 * @param smallSlots      more requests in flight, each with a buffer of {@link #SMALL_REQUEST_BYTES}; 0 when
 *                        {@code maxRequestBytes} is no larger
 */
public record NbdExport(String name, long size, int maxRequestBytes, int slots, int smallSlots) {
    /** Per connection, the buffers of the {@code slots} together take at most this (and at least 4 slots). */
    public static final int CONNECTION_BUFFER_BYTES = 32 << 20;
    public static final int MAX_SLOTS = 64;
    /** The data a small slot holds: 16 pages. */
    public static final int SMALL_REQUEST_BYTES = 64 << 10;

    public NbdExport {
        if (size <= 0 || size % NbdProtocol.PAGE != 0) {
            throw new IllegalArgumentException("export size " + size + " is not a positive multiple of 4096");
        }
        if (maxRequestBytes < NbdProtocol.PAGE || maxRequestBytes % NbdProtocol.PAGE != 0) {
            throw new IllegalArgumentException("maxRequestBytes " + maxRequestBytes + " is not a multiple of 4096");
        }
        if (slots < 1 || slots > MAX_SLOTS) {
            throw new IllegalArgumentException("slots " + slots + " not in 1.." + MAX_SLOTS);
        }
        if (smallSlots < 0 || smallSlots > MAX_SLOTS || smallSlots > 0 && maxRequestBytes <= SMALL_REQUEST_BYTES) {
            throw new IllegalArgumentException("smallSlots " + smallSlots + " not in 0.." + MAX_SLOTS
                    + " (0 when maxRequestBytes is " + SMALL_REQUEST_BYTES + " or less)");
        }
    }

    /**
     * An export of {@code size} bytes with as many slots as {@link #CONNECTION_BUFFER_BYTES} holds (4 to 64), and,
     * when those are larger than {@link #SMALL_REQUEST_BYTES}, {@link #MAX_SLOTS} small slots (4 MiB more).
     */
    public static NbdExport of(long size, int maxRequestBytes) {
        int slots = Math.max(4, Math.min(MAX_SLOTS, CONNECTION_BUFFER_BYTES / maxRequestBytes));
        return new NbdExport("valet", size, maxRequestBytes, slots,
                maxRequestBytes > SMALL_REQUEST_BYTES ? MAX_SLOTS : 0);
    }

    /** Whether a request of {@code type} and {@code length} fits a small slot. */
    boolean fitsSmallSlot(int type, long length) {
        return length <= SMALL_REQUEST_BYTES || type != NbdProtocol.CMD_READ && type != NbdProtocol.CMD_WRITE;
    }
}
