package dev.valet.common.config;

import java.time.Duration;
import java.util.Objects;

/**
 * What one client, or a flood of connections, may take of a donor ({@code limits} in donor.yaml). The frame size
 * limit is {@code maxFrameBytes}, a top-level key.
 *
 * @param maxClients               connections that have completed the handshake at once; one more is closed (and
 *                                 logged); default {@code 32}, allowed 1 to 65536
 * @param maxSlabsPerClient        slabs one client identity may hold here; one more is refused with
 *                                 {@code TOO_MANY_SLABS}; default {@code 1024}, allowed 1 to as many as one
 *                                 {@code LIST_SLABS_OK} of {@code maxFrameBytes} carries (65534 at 1M)
 * @param maxInFlightPerConnection requests read from one connection but not yet answered; at this many the donor
 *                                 stops reading the connection until replies drain (backpressure, never a bigger
 *                                 buffer); default {@code 64}, allowed 1 to 65536
 * @param idleTimeout              a connection that sends no frame for this long is closed; clients send a
 *                                 HEARTBEAT every {@code failover.heartbeatInterval} (1s); default {@code 60s},
 *                                 allowed {@code 1s} to {@code 24h}
 * @param handshakeTimeout         a connection that has not completed HELLO (and AUTH, with a secret) this long
 *                                 after it opened is closed; default {@code 10s}, allowed {@code 100ms} to
 *                                 {@code 5m}
 */
public record LimitsConfig(int maxClients, int maxSlabsPerClient, int maxInFlightPerConnection, Duration idleTimeout,
                           Duration handshakeTimeout) {
    public static final LimitsConfig DEFAULTS = new LimitsConfig(32, 1024, 64, Duration.ofSeconds(60),
            Duration.ofSeconds(10));
    public static final int MAX_COUNT = 65536;

    public LimitsConfig {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
    }

    /**
     * @param maxListedSlabs the most slabs one LIST_SLABS_OK can carry at the donor's frame size
     * @throws ConfigProblem with the key path relative to {@code limits}
     */
    void validate(int maxListedSlabs) {
        ConfigRules.requireBetween("maxClients", maxClients, 1, MAX_COUNT);
        ConfigRules.requireBetween("maxSlabsPerClient", maxSlabsPerClient, 1, maxListedSlabs);
        ConfigRules.requireBetween("maxInFlightPerConnection", maxInFlightPerConnection, 1, MAX_COUNT);
        ConfigRules.requireBetween("idleTimeout", idleTimeout, Duration.ofSeconds(1), Duration.ofDays(1));
        ConfigRules.requireBetween("handshakeTimeout", handshakeTimeout, Duration.ofMillis(100),
                Duration.ofMinutes(5));
    }
}
