package dev.valet.client.nbd;

/**
 * What one connection serves: an export of {@code size} bytes (a multiple of 4096) whose requests carry at most
 * {@code maxRequestBytes} (a multiple of 4096), with {@code slots} requests in flight per connection.
 *
 * @param name            the export's name, as NBD_OPT_LIST tells it (every name a client asks for gets this
 *                        export)
 * @param size            bytes in the export
 * @param maxRequestBytes largest READ or WRITE, advertised as the maximum block size
 * @param slots           requests in flight per connection; each has a buffer of {@code maxRequestBytes}
 */
public record NbdExport(String name, long size, int maxRequestBytes, int slots) {
    /** Per connection, the slots' buffers together take at most this (and at least 4 slots). */
    public static final int CONNECTION_BUFFER_BYTES = 32 << 20;
    public static final int MAX_SLOTS = 64;

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
    }

    /** An export of {@code size} bytes with as many slots as {@link #CONNECTION_BUFFER_BYTES} holds (4 to 64). */
    public static NbdExport of(long size, int maxRequestBytes) {
        int slots = Math.max(4, Math.min(MAX_SLOTS, CONNECTION_BUFFER_BYTES / maxRequestBytes));
        return new NbdExport("valet", size, maxRequestBytes, slots);
    }
}
