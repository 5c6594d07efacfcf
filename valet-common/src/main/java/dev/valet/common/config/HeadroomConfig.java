package dev.valet.common.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How much of its host's memory a donor keeps free for the host's own work ({@code headroom} in donor.yaml). The
 * donor compares the EWMA of {@code MemAvailable} with these thresholds at every sample; see
 * {@code docs/operations.md}.
 *
 * @param evictBelow   below this much free memory the donor is under pressure: it lends nothing new, frees its
 *                     slabs that hold no written page, and asks the owners of others to move them; default
 *                     {@code 512M}, allowed {@code 0} (never evict) to {@code 1T}
 * @param expandAbove  once under pressure, the donor offers memory again only when free memory is back above this;
 *                     then it offers up to {@code memory}, never so much that lending it would drop free memory
 *                     below {@code evictBelow}; default {@code 1G}, greater than {@code evictBelow}, at most
 *                     {@code 1T}
 * @param victim       which slabs are asked to move first: {@code least-active} (longest since a read or write) or
 *                     {@code oldest} (longest since allocated); default {@code least-active}
 * @param evictTimeout how long an owner has to move an evicted slab and free it; after that the donor keeps the slab
 *                     (it never drops the last copy), logs the pressure and asks again later, backing off; default
 *                     {@code 30s}, allowed {@code 100ms} to {@code 10m}
 */
public record HeadroomConfig(ByteSize evictBelow, ByteSize expandAbove, VictimPolicy victim, Duration evictTimeout) {
    public static final HeadroomConfig DEFAULTS = new HeadroomConfig(ByteSize.ofMebibytes(512),
            ByteSize.ofGibibytes(1), VictimPolicy.LEAST_ACTIVE, Duration.ofSeconds(30));
    private static final ByteSize MAX_THRESHOLD = ByteSize.ofGibibytes(1024);

    public HeadroomConfig {
        Objects.requireNonNull(evictBelow, "evictBelow");
        Objects.requireNonNull(expandAbove, "expandAbove");
        Objects.requireNonNull(victim, "victim");
        Objects.requireNonNull(evictTimeout, "evictTimeout");
    }

    /** @throws ConfigProblem with the key path relative to {@code headroom} */
    void validate() {
        ConfigRules.requireBetween("evictBelow", evictBelow, ByteSize.ofBytes(0), MAX_THRESHOLD);
        if (expandAbove.compareTo(evictBelow) <= 0 || expandAbove.compareTo(MAX_THRESHOLD) > 0) {
            throw new ConfigProblem("expandAbove", "must be greater than evictBelow (" + evictBelow + ") and at most "
                    + MAX_THRESHOLD + ", got " + expandAbove);
        }
        ConfigRules.requireBetween("evictTimeout", evictTimeout, Duration.ofMillis(100), Duration.ofMinutes(10));
    }
}
