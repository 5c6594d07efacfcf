package dev.valet.common.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.SlabList;

import java.time.Duration;
import java.util.Objects;

/**
 * The donor daemon's settings, read from {@code donor.yaml} by {@link ConfigLoader}. Every key is optional; an
 * absent key takes its default from {@link #defaults()}. Each key is described below, and with its type and bounds
 * in {@code docs/configuration.md}.
 *
 * @param listen               address and port the donor accepts clients on; default {@code 0.0.0.0:7070}; port
 *                             0 picks a free port (the donor reports the one it got in its ready file)
 * @param memory               the most memory this donor lends, summed over all clients; default {@code 1G},
 *                             at least {@code 4K}
 * @param maxFrameBytes        largest wire frame the donor accepts; a bigger one closes the connection, which
 *                             bounds the memory a misbehaving client can make it buffer; default {@code 1M},
 *                             allowed {@code 64K} to {@code 64M}
 * @param maxSlabBytes         largest slab one allocation may ask for; default {@code 1G}, allowed {@code 4K} to
 *                             {@code 1G} and a multiple of the 4096-byte page
 * @param lockMemory           whether lent slabs are {@code mlock}ed so that the donor never swaps out pages
 *                             that are themselves someone's swap; default {@code true}
 * @param memorySampleInterval how often the donor samples {@code MemAvailable}; default {@code 1s}, allowed
 *                             {@code 10ms} to {@code 1m}
 * @param ewmaWeight           weight of the newest {@code MemAvailable} sample in the smoothed value,
 *                             {@code ewma = w * newest + (1 - w) * previous}; higher reacts faster, lower
 *                             smooths more; default {@code 0.7}, allowed greater than 0 and at most 1
 * @param gradientWindow       window over which the free-memory gradient (bytes per second) is computed, so
 *                             the donor sees its own workload growing before memory runs out; default
 *                             {@code 8s}, at least twice {@code memorySampleInterval} so it spans two samples
 * @param transport            {@code tcp}: serve TCP only; {@code rdma}: also serve RDMA (rdma_cm on the same
 *                             address and port number) and fail to start without it; {@code auto}: also serve
 *                             RDMA when this host has an RDMA device; default {@code auto}
 * @param headroom             the free memory the donor keeps for its host, and how it gets it back; see
 *                             {@link HeadroomConfig}
 * @param auth                 who may connect; see {@link AuthConfig}. A donor without a secret listening on a
 *                             non-loopback address refuses to start unless {@code auth.allowUnauthenticated}
 * @param tls                  TLS around connections; see {@link TlsConfig}
 * @param limits               what one client or a flood of connections may take; see {@link LimitsConfig}
 * @param metrics              the Prometheus endpoint; see {@link MetricsConfig}
 */
public record DonorConfig(
        @JsonDeserialize(using = ConfigModule.ListenAddressDeserializer.class) DonorAddress listen,
        ByteSize memory,
        ByteSize maxFrameBytes,
        ByteSize maxSlabBytes,
        boolean lockMemory,
        Duration memorySampleInterval,
        double ewmaWeight,
        Duration gradientWindow,
        TransportChoice transport,
        HeadroomConfig headroom,
        AuthConfig auth,
        TlsConfig tls,
        LimitsConfig limits,
        MetricsConfig metrics) implements ValidatedConfig {

    private static final DonorConfig DEFAULTS = new DonorConfig(DonorAddress.parse("0.0.0.0:7070"),
            ByteSize.ofGibibytes(1), ByteSize.ofMebibytes(1), ByteSize.ofGibibytes(1), true, Duration.ofSeconds(1),
            0.7, Duration.ofSeconds(8), TransportChoice.AUTO, HeadroomConfig.DEFAULTS, AuthConfig.DEFAULTS,
            TlsConfig.DEFAULTS, LimitsConfig.DEFAULTS, MetricsConfig.DEFAULTS);

    /** The page size slabs are made of; slab sizes are whole pages. */
    public static final long PAGE_BYTES = 4096;
    public static final ByteSize MIN_MEMORY = ByteSize.ofBytes(PAGE_BYTES);
    public static final ByteSize MIN_FRAME_BYTES = ByteSize.ofKibibytes(64);
    public static final ByteSize MAX_FRAME_BYTES = ByteSize.ofMebibytes(64);
    public static final ByteSize MIN_SLAB_BYTES = ByteSize.ofBytes(PAGE_BYTES);
    public static final ByteSize MAX_SLAB_BYTES = ByteSize.ofGibibytes(1);
    public static final Duration MIN_MEMORY_SAMPLE_INTERVAL = Duration.ofMillis(10);
    public static final Duration MAX_MEMORY_SAMPLE_INTERVAL = Duration.ofMinutes(1);

    /** Checks only that every value is present; the rules are in {@link #validate()}. */
    public DonorConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(maxFrameBytes, "maxFrameBytes");
        Objects.requireNonNull(maxSlabBytes, "maxSlabBytes");
        Objects.requireNonNull(memorySampleInterval, "memorySampleInterval");
        Objects.requireNonNull(gradientWindow, "gradientWindow");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(headroom, "headroom");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(metrics, "metrics");
    }

    /** Every key at its default: what an empty {@code donor.yaml} gives. */
    public static DonorConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Checks the ranges documented on each key, and that {@code gradientWindow} spans at least two samples.
     *
     * @throws ConfigProblem naming the first key whose value is out of range
     */
    @Override
    public void validate() {
        if (memory.compareTo(MIN_MEMORY) < 0) {
            throw new ConfigProblem("memory", "must be at least " + MIN_MEMORY + ", got " + memory);
        }
        ConfigRules.requireBetween("maxFrameBytes", maxFrameBytes, MIN_FRAME_BYTES, MAX_FRAME_BYTES);
        ConfigRules.requireBetween("maxSlabBytes", maxSlabBytes, MIN_SLAB_BYTES, MAX_SLAB_BYTES);
        ConfigRules.requireMultipleOf("maxSlabBytes", maxSlabBytes, PAGE_BYTES);
        ConfigRules.requireBetween("memorySampleInterval", memorySampleInterval, MIN_MEMORY_SAMPLE_INTERVAL,
                MAX_MEMORY_SAMPLE_INTERVAL);
        if (!(ewmaWeight > 0 && ewmaWeight <= 1)) {
            throw new ConfigProblem("ewmaWeight", "must be greater than 0 and at most 1, got " + ewmaWeight);
        }
        Duration twoSamples = memorySampleInterval.multipliedBy(2);
        if (gradientWindow.compareTo(twoSamples) < 0) {
            throw new ConfigProblem("gradientWindow", "must be at least twice memorySampleInterval ("
                    + Durations.format(twoSamples) + "), got " + Durations.format(gradientWindow));
        }
        ConfigRules.inSection("headroom", headroom::validate);
        ConfigRules.inSection("auth", auth::validate);
        ConfigRules.inSection("tls", () -> tls.validate(true));
        ConfigRules.inSection("limits", () -> limits.validate(SlabList.maxEntries((int) maxFrameBytes.bytes())));
        ConfigRules.inSection("metrics", metrics::validate);
        if (metrics.enabled() && !metrics.address().isLoopback() && !(tls.enabled()
                && tls.certificateChainPath().isPresent() && tls.privateKeyPath().isPresent())) {
            throw new ConfigProblem("metrics.listen", metrics.listen() + " is not loopback: the endpoint is then"
                    + " served only over TLS, with this daemon's certificate; set tls.enabled, tls.certificateChain"
                    + " and tls.privateKey, or listen on 127.0.0.1");
        }
    }

    /**
     * Why this donor must not start as configured, or {@code null}: no secret while listening on an address
     * other hosts can reach, and {@code auth.allowUnauthenticated} not set.
     */
    public String unauthenticatedExposure() {
        if (auth.secretPath().isPresent() || auth.allowUnauthenticated() || listen.isLoopback()) {
            return null;
        }
        return "refusing to listen on " + listen + " without authentication: any host that can reach it could"
                + " read and write the memory lent here. Set auth.secretFile in donor.yaml (or --secret-file) to a"
                + " file of at least " + ClusterSecret.MIN_BYTES + " random bytes with mode"
                + " 0600, or listen on loopback, or set auth.allowUnauthenticated: true (or"
                + " --allow-unauthenticated) to accept any client";
    }
}
