package dev.valet.common.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Duration;
import java.util.Objects;

/**
 * How donor failures are found and repaired ({@code failover} in valet.yaml).
 *
 * @param heartbeatInterval  how often each donor is sent a HEARTBEAT and asked for STATS; default {@code 1s},
 *                           allowed {@code 10ms} to {@code 1m}
 * @param donorTimeout       a donor that has not answered for this long is dead: its copies are dropped and
 *                           re-made elsewhere; default {@code 3s}, at least twice {@code heartbeatInterval}
 * @param reReplicationRate  the most bytes per second re-replication copies, so repair does not starve the
 *                           swap traffic; default {@code 256M}, allowed {@code 1M} to {@code 64G}
 * @param migrationRate      the most bytes per second a migration (moving a slab a donor evicts) copies; it has the
 *                           donor's deadline to meet, so it is faster than repair by default; default {@code 1G},
 *                           allowed {@code 1M} to {@code 64G}
 */
public record FailoverConfig(Duration heartbeatInterval, Duration donorTimeout, ByteSize reReplicationRate,
                             ByteSize migrationRate) {
    public static final FailoverConfig DEFAULTS = new FailoverConfig(Duration.ofSeconds(1), Duration.ofSeconds(3),
            ByteSize.ofMebibytes(256), ByteSize.ofGibibytes(1));

    /** With the default {@code migrationRate}. */
    public FailoverConfig(Duration heartbeatInterval, Duration donorTimeout, ByteSize reReplicationRate) {
        this(heartbeatInterval, donorTimeout, reReplicationRate, DEFAULTS.migrationRate);
    }

    public FailoverConfig {
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(donorTimeout, "donorTimeout");
        Objects.requireNonNull(reReplicationRate, "reReplicationRate");
        Objects.requireNonNull(migrationRate, "migrationRate");
    }

    @JsonCreator
    private static FailoverConfig fromYaml(
            @JsonProperty("heartbeatInterval") Duration heartbeatInterval,
            @JsonProperty("donorTimeout") Duration donorTimeout,
            @JsonProperty("reReplicationRate") ByteSize reReplicationRate,
            @JsonProperty("migrationRate") ByteSize migrationRate) {
        return new FailoverConfig(
                Objects.requireNonNullElse(heartbeatInterval, DEFAULTS.heartbeatInterval),
                Objects.requireNonNullElse(donorTimeout, DEFAULTS.donorTimeout),
                Objects.requireNonNullElse(reReplicationRate, DEFAULTS.reReplicationRate),
                Objects.requireNonNullElse(migrationRate, DEFAULTS.migrationRate));
    }

    public FailoverConfig withHeartbeatInterval(Duration d) {
        return new FailoverConfig(d, donorTimeout, reReplicationRate, migrationRate);
    }

    public FailoverConfig withDonorTimeout(Duration d) {
        return new FailoverConfig(heartbeatInterval, d, reReplicationRate, migrationRate);
    }

    public FailoverConfig withReReplicationRate(ByteSize rate) {
        return new FailoverConfig(heartbeatInterval, donorTimeout, rate, migrationRate);
    }

    public FailoverConfig withMigrationRate(ByteSize rate) {
        return new FailoverConfig(heartbeatInterval, donorTimeout, reReplicationRate, rate);
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
        ConfigRules.requireBetween("reReplicationRate", reReplicationRate, ByteSize.ofMebibytes(1),
                ByteSize.ofGibibytes(64));
        ConfigRules.requireBetween("migrationRate", migrationRate, ByteSize.ofMebibytes(1),
                ByteSize.ofGibibytes(64));
    }
}
