package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.MalformedMessageException;

/**
 * One /dev/valetN as the driver's STATUS describes it. Counters the driver did not send are 0; {@code -1} marks
 * a setting it did not report.
 *
 * @param index           N of /dev/valetN
 * @param size            bytes
 * @param queueDepth      tags per hardware queue, or -1
 * @param holdMillis      how long requests wait for a daemon, or -1
 * @param ioTimeoutMillis one request's timeout, or -1
 * @param dataBytes       size of the device's data area (where requests' pages are), or -1
 * @param tierBytes       size of the device's tier area (the host tier's memory, kept by the driver), 0: none
 * @param attached        a daemon is attached
 * @param inflight        requests sent to the daemon and not completed
 * @param held            requests waiting for a daemon
 * @param busy            requests that waited for room in the data area
 * @param messages        IO messages the driver sent
 * @param queuedNanos     sum over sent requests of the time from queue_rq to their IO message
 * @param servedNanos     sum over completions of the time from the IO message to the DONE
 */
public record DeviceStatus(int index, long size, int queueDepth, long holdMillis, long ioTimeoutMillis,
                           long dataBytes, long tierBytes, boolean attached, long inflight, long held, long reads,
                           long writes, long readBytes, long writeBytes, long errors, long timeouts, long resent,
                           long rejected, long busy, long messages, long queuedNanos, long servedNanos) {

    /** {@code /dev/valetN}. */
    public String devicePath() {
        return devicePath(index);
    }

    public static String devicePath(int index) {
        return "/dev/valet" + index;
    }

    /** Reads the attributes of one STATUS answer. */
    static DeviceStatus read(AttributeReader a) throws MalformedMessageException {
        int index = -1;
        long size = -1;
        int queueDepth = -1;
        long hold = -1;
        long ioTimeout = -1;
        long dataBytes = -1;
        long tierBytes = 0;
        boolean attached = false;
        long[] later = new long[ValetGenl.ATTR_STAT_SERVED_NS - ValetGenl.ATTR_STAT_BUSY + 1];
        long[] stats = new long[ValetGenl.ATTR_STAT_REJECTED - ValetGenl.ATTR_STAT_INFLIGHT + 1];
        while (a.next()) {
            int type = a.type();
            switch (type) {
                case ValetGenl.ATTR_INDEX -> index = a.u32();
                case ValetGenl.ATTR_SIZE -> size = a.u64();
                case ValetGenl.ATTR_QUEUE_DEPTH -> queueDepth = a.u32();
                case ValetGenl.ATTR_HOLD_MS -> hold = a.u32AsLong();
                case ValetGenl.ATTR_IO_TIMEOUT_MS -> ioTimeout = a.u32AsLong();
                case ValetGenl.ATTR_DATA_BYTES -> dataBytes = a.u64();
                case ValetGenl.ATTR_TIER_BYTES -> tierBytes = a.u64();
                case ValetGenl.ATTR_ATTACHED -> attached = a.u8() != 0;
                case ValetGenl.ATTR_STAT_BUSY, ValetGenl.ATTR_STAT_MESSAGES, ValetGenl.ATTR_STAT_QUEUED_NS,
                        ValetGenl.ATTR_STAT_SERVED_NS -> later[type - ValetGenl.ATTR_STAT_BUSY] = a.u64();
                case ValetGenl.ATTR_STAT_INFLIGHT, ValetGenl.ATTR_STAT_HELD ->
                        stats[type - ValetGenl.ATTR_STAT_INFLIGHT] = a.u32AsLong();
                default -> {
                    if (type > ValetGenl.ATTR_STAT_HELD && type <= ValetGenl.ATTR_STAT_REJECTED) {
                        stats[type - ValetGenl.ATTR_STAT_INFLIGHT] = a.u64();
                    }
                }
            }
        }
        if (index < 0) {
            throw new MalformedMessageException("STATUS answer without VALET_ATTR_INDEX");
        }
        if (size < 0) {
            throw new MalformedMessageException("STATUS answer for /dev/valet" + index + " without VALET_ATTR_SIZE");
        }
        return new DeviceStatus(index, size, queueDepth, hold, ioTimeout, dataBytes, tierBytes, attached, stats[0],
                stats[1], stats[2], stats[3], stats[4], stats[5], stats[6], stats[7], stats[8], stats[9], later[0],
                later[1], later[2], later[3]);
    }
}
