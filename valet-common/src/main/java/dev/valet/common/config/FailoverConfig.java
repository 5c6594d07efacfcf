package dev.valet.common.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How donor failures are found and repaired ({@code failover} in valet.yaml).
 *
 * @param heartbeatInterval  how often each donor is sent a HEARTBEAT and asked for STATS; default {@code 1s},
 *                           allowed {@code 10ms} to {@code 1m}
 * @param donorTimeout       a donor that has not answered for this long is suspected: its copies are kept but
 *                           neither written nor counted, and re-replication may add copies elsewhere; default
 *                           {@code 3s}, at least twice {@code heartbeatInterval}
 * @param reReplicationRate  the most bytes per second re-replication copies, so repair does not starve the
 *                           swap traffic; default {@code 256M}, allowed {@code 1M} to {@code 64G}
 * @param migrationRate      the most bytes per second a migration (moving a slab a donor evicts) copies; it has the
 *                           donor's deadline to meet, so it is faster than repair by default; default {@code 1G},
 *                           allowed {@code 1M} to {@code 64G}
 * @param deadAfter          a donor silent (or unreachable) this long is confirmed dead even without evidence: its
 *                           copies are dropped; far longer than any pause a busy machine makes; default {@code 60s}
 *                           (or {@code donorTimeout} if longer), at least {@code donorTimeout}, at most {@code 24h}
 * @param readyTimeout       how long start-up waits for {@code placement.numReplica} live donors before giving up;
 *                           default {@code 2m}, allowed {@code 1s} to {@code 1h}
 */
public record FailoverConfig(Duration heartbeatInterval, Duration donorTimeout, ByteSize reReplicationRate,
                             ByteSize migrationRate, @ComputedDefault Duration deadAfter, Duration readyTimeout) {
    /** {@code deadAfter} is left to the constructor, which derives it from {@code donorTimeout}. */
    public static final FailoverConfig DEFAULTS = new FailoverConfig(Duration.ofSeconds(1), Duration.ofSeconds(3),
            ByteSize.ofMebibytes(256), ByteSize.ofGibibytes(1), null, Duration.ofMinutes(2));

    /** A null {@code deadAfter} takes its default: {@code 60s}, or {@code donorTimeout} when that is longer. */
    public FailoverConfig {
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(donorTimeout, "donorTimeout");
        Objects.requireNonNull(reReplicationRate, "reReplicationRate");
        Objects.requireNonNull(migrationRate, "migrationRate");
        Objects.requireNonNull(readyTimeout, "readyTimeout");
        if (deadAfter == null) {
            Duration minute = Duration.ofSeconds(60);
            deadAfter = donorTimeout.compareTo(minute) > 0 ? donorTimeout : minute;
        }
    }

    /** @throws ConfigProblem with the key path relative to {@code failover} */
    void validate() {
        ConfigRules.requireBetween("heartbeatInterval", heartbeatInterval, Duration.ofMillis(10),
                Duration.ofMinutes(1));
        Duration twice = heartbeatInterval.multipliedBy(2);
        if (donorTimeout.compareTo(twice) < 0 || donorTimeout.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigProblem("donorTimeout", "must be at least twice heartbeatInterval ("
                    + Durations.format(twice) + ") and at most 1h, got " + Durations.format(donorTimeout));
        }
        if (deadAfter.compareTo(donorTimeout) < 0 || deadAfter.compareTo(Duration.ofHours(24)) > 0) {
            throw new ConfigProblem("deadAfter", "must be at least donorTimeout (" + Durations.format(donorTimeout)
                    + ") and at most 24h, got " + Durations.format(deadAfter));
        }
        ConfigRules.requireBetween("readyTimeout", readyTimeout, Duration.ofSeconds(1), Duration.ofHours(1));
        ConfigRules.requireBetween("reReplicationRate", reReplicationRate, ByteSize.ofMebibytes(1),
                ByteSize.ofGibibytes(64));
        ConfigRules.requireBetween("migrationRate", migrationRate, ByteSize.ofMebibytes(1),
                ByteSize.ofGibibytes(64));
    }
}
