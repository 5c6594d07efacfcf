package dev.valet.common.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.SlabList;

import java.nio.file.Path;

import java.time.Duration;
import java.util.Objects;

/**
 * The donor daemon's settings, read from {@code donor.yaml}. Every key is optional; an absent key takes the
 * default documented on its component below and in {@code docs/configuration.md}. Command-line flags override
 * the file through the {@code with...} methods; call {@link #validate()} after applying them.
 *
 * @param listen               address and port the donor accepts clients on; default {@code 0.0.0.0:7070}
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
 */
public record DonorConfig(
        DonorAddress listen,
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
        LimitsConfig limits) implements ValidatedConfig, FileRelativeConfig<DonorConfig> {

    public static final DonorAddress DEFAULT_LISTEN = DonorAddress.parse("0.0.0.0:7070");
    public static final ByteSize DEFAULT_MEMORY = ByteSize.ofGibibytes(1);
    public static final ByteSize DEFAULT_MAX_FRAME_BYTES = ByteSize.ofMebibytes(1);
    public static final ByteSize DEFAULT_MAX_SLAB_BYTES = ByteSize.ofGibibytes(1);
    public static final boolean DEFAULT_LOCK_MEMORY = true;
    public static final Duration DEFAULT_MEMORY_SAMPLE_INTERVAL = Duration.ofSeconds(1);
    public static final double DEFAULT_EWMA_WEIGHT = 0.7;
    public static final Duration DEFAULT_GRADIENT_WINDOW = Duration.ofSeconds(8);
    public static final TransportChoice DEFAULT_TRANSPORT = TransportChoice.AUTO;

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
    }

    /** Every key at its default: what an empty {@code donor.yaml} gives. */
    public static DonorConfig defaults() {
        return new DonorConfig(DEFAULT_LISTEN, DEFAULT_MEMORY, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_SLAB_BYTES,
                DEFAULT_LOCK_MEMORY, DEFAULT_MEMORY_SAMPLE_INTERVAL, DEFAULT_EWMA_WEIGHT, DEFAULT_GRADIENT_WINDOW,
                DEFAULT_TRANSPORT, HeadroomConfig.DEFAULTS, AuthConfig.DEFAULTS, TlsConfig.DEFAULTS,
                LimitsConfig.DEFAULTS);
    }

    /** Binds YAML; a key that is absent arrives as null and takes its default. */
    @JsonCreator
    private static DonorConfig fromYaml(
            @JsonProperty("listen") DonorAddress listen,
            @JsonProperty("memory") ByteSize memory,
            @JsonProperty("maxFrameBytes") ByteSize maxFrameBytes,
            @JsonProperty("maxSlabBytes") ByteSize maxSlabBytes,
            @JsonProperty("lockMemory") Boolean lockMemory,
            @JsonProperty("memorySampleInterval") Duration memorySampleInterval,
            @JsonProperty("ewmaWeight") Double ewmaWeight,
            @JsonProperty("gradientWindow") Duration gradientWindow,
            @JsonProperty("transport") TransportChoice transport,
            @JsonProperty("headroom") HeadroomConfig headroom,
            @JsonProperty("auth") AuthConfig auth,
            @JsonProperty("tls") TlsConfig tls,
            @JsonProperty("limits") LimitsConfig limits) {
        return new DonorConfig(
                Objects.requireNonNullElse(listen, DEFAULT_LISTEN),
                Objects.requireNonNullElse(memory, DEFAULT_MEMORY),
                Objects.requireNonNullElse(maxFrameBytes, DEFAULT_MAX_FRAME_BYTES),
                Objects.requireNonNullElse(maxSlabBytes, DEFAULT_MAX_SLAB_BYTES),
                Objects.requireNonNullElse(lockMemory, DEFAULT_LOCK_MEMORY),
                Objects.requireNonNullElse(memorySampleInterval, DEFAULT_MEMORY_SAMPLE_INTERVAL),
                Objects.requireNonNullElse(ewmaWeight, DEFAULT_EWMA_WEIGHT),
                Objects.requireNonNullElse(gradientWindow, DEFAULT_GRADIENT_WINDOW),
                Objects.requireNonNullElse(transport, DEFAULT_TRANSPORT),
                Objects.requireNonNullElse(headroom, HeadroomConfig.DEFAULTS),
                Objects.requireNonNullElse(auth, AuthConfig.DEFAULTS),
                Objects.requireNonNullElse(tls, TlsConfig.DEFAULTS),
                Objects.requireNonNullElse(limits, LimitsConfig.DEFAULTS));
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
    }

    /** Resolves the auth and TLS file paths against the YAML file's directory unless they are absolute. */
    @Override
    public DonorConfig resolveRelativePaths(Path directory) {
        return withAuth(auth.resolveRelativePaths(directory)).withTls(tls.resolveRelativePaths(directory));
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

    public DonorConfig withListen(DonorAddress listen) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withMemory(ByteSize memory) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withMaxFrameBytes(ByteSize maxFrameBytes) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withMaxSlabBytes(ByteSize maxSlabBytes) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withLockMemory(boolean lockMemory) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withMemorySampleInterval(Duration memorySampleInterval) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withEwmaWeight(double ewmaWeight) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withGradientWindow(Duration gradientWindow) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withTransport(TransportChoice transport) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withHeadroom(HeadroomConfig headroom) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withAuth(AuthConfig auth) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withTls(TlsConfig tls) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }

    public DonorConfig withLimits(LimitsConfig limits) {
        return new DonorConfig(listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,
                ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits);
    }
}
