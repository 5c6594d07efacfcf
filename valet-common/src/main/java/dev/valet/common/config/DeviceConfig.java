package dev.valet.common.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The block device the client serves, /dev/valetN ({@code device} in valet.yaml). These settings are given to
 * the driver when the client creates the device; a device that already exists (left by an earlier client) keeps
 * the settings it was created with.
 *
 * @param queueDepth  requests the driver keeps in flight per hardware queue (its tags); the client keeps a small
 *                    slot (cookie, op, status) for each of queue depth × CPUs requests; default {@code 256},
 *                    allowed 1 to 4096
 * @param holdTimeout how long a request may be held before it fails with an I/O error: by the driver while no
 *                    client is attached (one restarting, or not yet started), by the client engine while no copy
 *                    can be reached; default {@code 60s}, allowed {@code 1s} to {@code 1h}
 * @param ioTimeout   how long the driver waits for the client to complete one request; default {@code 30s},
 *                    allowed {@code 1s} to {@code 10m}
 * @param dataArea    the driver's memory for the pages of the requests it has out (the client maps it; no page
 *                    travels in netlink messages): a request that finds no room waits until one completes, so it bounds
 *                    the bytes under writeback to the client; default {@code 8M}, allowed {@code 512K} (one largest
 *                    request) to {@code 1G}, a multiple of {@code 4K}
 */
public record DeviceConfig(int queueDepth, Duration holdTimeout, Duration ioTimeout, ByteSize dataArea) {
    /** The data area's default and bounds are the driver's (VALET_DEF/MIN/MAX_DATA_BYTES of valet_uapi.h). */
    public static final DeviceConfig DEFAULTS = new DeviceConfig(256, Duration.ofSeconds(60), Duration.ofSeconds(30),
            ByteSize.ofMebibytes(8));
    public static final int MAX_QUEUE_DEPTH = 4096;
    public static final ByteSize MIN_DATA_AREA = ByteSize.ofKibibytes(512);
    public static final ByteSize MAX_DATA_AREA = ByteSize.ofGibibytes(1);

    public DeviceConfig {
        Objects.requireNonNull(holdTimeout, "holdTimeout");
        Objects.requireNonNull(ioTimeout, "ioTimeout");
        Objects.requireNonNull(dataArea, "dataArea");
    }

    /** @throws ConfigProblem with the key path relative to {@code device} */
    void validate() {
        ConfigRules.requireBetween("queueDepth", queueDepth, 1, MAX_QUEUE_DEPTH);
        ConfigRules.requireBetween("holdTimeout", holdTimeout, Duration.ofSeconds(1), Duration.ofHours(1));
        ConfigRules.requireBetween("ioTimeout", ioTimeout, Duration.ofSeconds(1), Duration.ofMinutes(10));
        ConfigRules.requireBetween("dataArea", dataArea, MIN_DATA_AREA, MAX_DATA_AREA);
        ConfigRules.requireMultipleOf("dataArea", dataArea, 4096);
    }
}
