package dev.valet.common.config;

import java.util.Objects;

/**
 * The host tier ({@code hostTier} in valet.yaml): a bounded pool of this host's RAM in front of the donors. A
 * swap-out completes once its page is in the tier, which writes it to the donors in the background; a swap-in of a
 * page in the tier is served from it, and read-ahead fills it ahead of the faults. The memory is the driver's (kept
 * with the device, so a write acknowledged from the tier survives a crash of the daemon); docs/host-tier.md.
 *
 * @param size        the tier's memory, allocated once with the device; {@code 0} turns the tier off; default
 *                    {@code 64M}, otherwise {@code 1M} to {@code 1G}, a multiple of {@code 4K}
 * @param flushBatch  most dirty pages handed to the engine in one background burst (the engine packs the pages of
 *                    one slab into frames of up to {@code maxPagesPerFrame}); default {@code 128}, allowed 1 to 1024
 * @param maxFlushing most pages being written to the donors at once; default {@code 256}, allowed 1 to 65536
 * @param prefetch    the read-ahead into the tier; see {@link PrefetchConfig}
 */
public record HostTierConfig(ByteSize size, int flushBatch, int maxFlushing, PrefetchConfig prefetch) {
    public static final HostTierConfig DEFAULTS = new HostTierConfig(ByteSize.ofMebibytes(64), 128, 256,
            PrefetchConfig.DEFAULTS);
    /** Below this a tier holds too few pages to be worth its bookkeeping. */
    public static final ByteSize MIN_SIZE = ByteSize.ofMebibytes(1);
    /** The tier is one mapping addressed by a netty buffer, whose indices are ints: 1G keeps well inside them. */
    public static final ByteSize MAX_SIZE = ByteSize.ofGibibytes(1);
    public static final int MAX_FLUSH_BATCH = 1024;
    public static final int MAX_FLUSHING = 65536;

    public HostTierConfig {
        Objects.requireNonNull(size, "size");
        Objects.requireNonNull(prefetch, "prefetch");
    }

    /** Whether the tier is on ({@code size} is not 0). */
    public boolean enabled() {
        return size.bytes() != 0;
    }

    /** @throws ConfigProblem with the key path relative to {@code hostTier} */
    void validate() {
        if (enabled() && (size.compareTo(MIN_SIZE) < 0 || size.compareTo(MAX_SIZE) > 0)) {
            throw new ConfigProblem("size", "must be 0 (off) or between " + MIN_SIZE + " and " + MAX_SIZE
                    + ", got " + size);
        }
        ConfigRules.requireMultipleOf("size", size, 4096);
        ConfigRules.requireBetween("flushBatch", flushBatch, 1, MAX_FLUSH_BATCH);
        ConfigRules.requireBetween("maxFlushing", maxFlushing, 1, MAX_FLUSHING);
        ConfigRules.inSection("prefetch", prefetch::validate);
    }
}
