package dev.valet.common.config;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The client daemon's settings, read from {@code valet.yaml} by {@link ConfigLoader}. Every key is optional; an
 * absent key takes its default from {@link #defaults()}. Each key is described below, and with its type and bounds
 * in {@code docs/configuration.md}; how to add one is there too.
 *
 * @param identity         the name donors know this client by: slabs belong to it, so a client that restarts
 *                         under the same identity can find them again; 1 to 255 bytes of UTF-8, letters,
 *                         digits and {@code - _ . @ :}; default the machine's host name
 * @param portalList       the file listing the donors ({@link dev.valet.common.portal.PortalList}); a relative
 *                         path is relative to the directory of the YAML file; default {@code portal.list}
 * @param connectTimeout   how long to wait for a donor to accept a connection; default {@code 2s}, allowed
 *                         {@code 1ms} to {@code 1h}
 * @param requestTimeout   how long to wait for a donor to answer one request before treating it as failed;
 *                         default {@code 5s}, allowed {@code 1ms} to {@code 1h}
 * @param maxPagesPerFrame most 4 KiB pages sent in one frame; more amortises headers, fewer keeps frames under
 *                         the donors' {@code maxFrameBytes}; default {@code 128}, allowed 1 to 1024
 * @param transport        what carries pages to donors: {@code tcp}, {@code rdma} (a donor that cannot be
 *                         reached over RDMA is unavailable), or {@code auto} (RDMA to each donor that accepts it
 *                         when this host has an RDMA device, TCP otherwise; logged per donor); default
 *                         {@code auto}
 * @param swapSpace        size of the swap space (and of {@code /dev/valet0}); default {@code 8G}, at least one
 *                         page, a multiple of 4096 (the seeds' SWAPSPACE_SIZE_G)
 * @param slabSize         unit of placement: the swap space is cut into slabs of this size, each mapped to donors
 *                         at its first write; default {@code 1G}, allowed {@code 4K} to {@code 1G}, a multiple of
 *                         4096
 * @param backupDisk       a file or block device that also receives every write (asynchronously, in order per
 *                         page) and serves reads no donor can; {@code none} (the default) turns it off; a
 *                         relative path is relative to the directory of the YAML file (the seeds' BACKUP_DISK)
 * @param placement        where slabs go; see {@link PlacementConfig}
 * @param failover         how failures are found and repaired; see {@link FailoverConfig}
 * @param device           the block device /dev/valetN the client serves; see {@link DeviceConfig}
 * @param hostTier         host RAM in front of the donors (write-back and read-ahead); see {@link HostTierConfig}
 * @param auth             the cluster secret the client proves and demands; see {@link AuthConfig}. With no
 *                         secret, a donor not on loopback is refused unless {@code auth.allowUnauthenticated}
 * @param tls              TLS to the donors; see {@link TlsConfig}
 * @param nbd              serve the swap space as an NBD export instead of /dev/valetN; see {@link NbdConfig}
 * @param metrics          the Prometheus endpoint and the dashboard; see {@link MetricsConfig}
 * @param control          the running daemon's control socket, for {@code valet status --client}; see
 *                         {@link ControlConfig}
 * @param encryption       end-to-end page encryption (donors see only ciphertext); see {@link EncryptionConfig}
 */
public record ClientConfig(
        String identity,
        @RelativeToConfigFile Path portalList,
        Duration connectTimeout,
        Duration requestTimeout,
        int maxPagesPerFrame,
        TransportChoice transport,
        ByteSize swapSpace,
        ByteSize slabSize,
        @RelativeToConfigFile String backupDisk,
        PlacementConfig placement,
        FailoverConfig failover,
        DeviceConfig device,
        HostTierConfig hostTier,
        AuthConfig auth,
        TlsConfig tls,
        NbdConfig nbd,
        MetricsConfig metrics,
        ControlConfig control,
        EncryptionConfig encryption) implements ValidatedConfig {

    /** The identity travels on the wire with a one-byte length. */
    public static final int MAX_IDENTITY_BYTES = 255;
    public static final int MAX_PAGES_PER_FRAME = 1024;
    public static final Duration MIN_TIMEOUT = Duration.ofMillis(1);
    public static final Duration MAX_TIMEOUT = Duration.ofHours(1);

    /** Checks only that every value is present; the rules are in {@link #validate()}. */
    public ClientConfig {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(portalList, "portalList");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(swapSpace, "swapSpace");
        Objects.requireNonNull(slabSize, "slabSize");
        Objects.requireNonNull(backupDisk, "backupDisk");
        Objects.requireNonNull(placement, "placement");
        Objects.requireNonNull(failover, "failover");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(hostTier, "hostTier");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(nbd, "nbd");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(control, "control");
        Objects.requireNonNull(encryption, "encryption");
    }

    /** Every key at its default: what an empty {@code valet.yaml} gives, before relative paths are resolved. */
    public static ClientConfig defaults() {
        return Defaults.VALUE;
    }

    /** In a holder, so that the host name is looked up only when the defaults are first needed. */
    private static final class Defaults {
        static final ClientConfig VALUE = new ClientConfig(defaultIdentity(), Path.of("portal.list"),
                Duration.ofSeconds(2), Duration.ofSeconds(5), 128, TransportChoice.AUTO, ByteSize.ofGibibytes(8),
                ByteSize.ofGibibytes(1), OptionalPath.NONE, PlacementConfig.DEFAULTS, FailoverConfig.DEFAULTS,
                DeviceConfig.DEFAULTS, HostTierConfig.DEFAULTS, AuthConfig.DEFAULTS, TlsConfig.DEFAULTS,
                NbdConfig.DEFAULTS, MetricsConfig.DEFAULTS, ControlConfig.DEFAULTS, EncryptionConfig.DEFAULTS);
    }

    /**
     * This machine's host name made into a valid identity (disallowed characters become {@code -}), or
     * {@code localhost} if the name cannot be found.
     */
    public static String defaultIdentity() {
        return LocalHostName.IDENTITY;
    }

    /**
     * Checks the ranges documented on each key.
     *
     * @throws ConfigProblem naming the first key whose value is out of range
     */
    @Override
    public void validate() {
        String identityProblem = identityProblem(identity);
        if (identityProblem != null) {
            throw new ConfigProblem("identity", identityProblem);
        }
        ConfigRules.requireBetween("connectTimeout", connectTimeout, MIN_TIMEOUT, MAX_TIMEOUT);
        ConfigRules.requireBetween("requestTimeout", requestTimeout, MIN_TIMEOUT, MAX_TIMEOUT);
        ConfigRules.requireBetween("maxPagesPerFrame", maxPagesPerFrame, 1, MAX_PAGES_PER_FRAME);
        ConfigRules.requireBetween("slabSize", slabSize, ByteSize.ofKibibytes(4), ByteSize.ofGibibytes(1));
        ConfigRules.requireMultipleOf("slabSize", slabSize, 4096);
        ConfigRules.requireBetween("swapSpace", swapSpace, ByteSize.ofKibibytes(4), ByteSize.ofBytes(1L << 50));
        ConfigRules.requireMultipleOf("swapSpace", swapSpace, 4096);
        OptionalPath.check("backupDisk", backupDisk);
        ConfigRules.inSection("placement", placement::validate);
        ConfigRules.inSection("failover", failover::validate);
        ConfigRules.inSection("device", device::validate);
        ConfigRules.inSection("hostTier", hostTier::validate);
        ConfigRules.inSection("auth", auth::validate);
        ConfigRules.inSection("tls", () -> tls.validate(false));
        ConfigRules.inSection("nbd", () -> nbd.validate(tls));
        ConfigRules.inSection("metrics", metrics::validate);
        if (metrics.enabled() && !metrics.address().isLoopback() && !(tls.enabled()
                && tls.certificateChainPath().isPresent() && tls.privateKeyPath().isPresent())) {
            throw new ConfigProblem("metrics.listen", metrics.listen() + " is not loopback: the endpoint is then"
                    + " served only over TLS, with this daemon's certificate; set tls.enabled, tls.certificateChain"
                    + " and tls.privateKey, or listen on 127.0.0.1");
        }
        ConfigRules.inSection("control", control::validate);
        ConfigRules.inSection("encryption", () -> encryption.validate(auth));
    }

    /** The backup disk, or empty when {@code backupDisk} is {@code none}. */
    public Optional<Path> backupDiskPath() {
        return OptionalPath.of(backupDisk);
    }

    /** Number of slabs the swap space is cut into (the last may be partly beyond the end of the swap space). */
    public long slabCount() {
        return (swapSpace.bytes() + slabSize.bytes() - 1) / slabSize.bytes();
    }

    /** Why {@code identity} is not a valid identity, or null if it is. */
    static String identityProblem(String identity) {
        int bytes = identity.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_IDENTITY_BYTES) {
            return "must be 1 to " + MAX_IDENTITY_BYTES + " bytes of UTF-8, got " + bytes;
        }
        int offset = 0;
        while (offset < identity.length()) {
            int c = identity.codePointAt(offset);
            if (!isIdentityChar(c)) {
                return "character '" + Character.toString(c) + "' at position " + (offset + 1) + " is not allowed"
                        + " in '" + identity + "' (use letters, digits and - _ . @ :)";
            }
            offset += Character.charCount(c);
        }
        return null;
    }

    private static boolean isIdentityChar(int c) {
        return Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == '@' || c == ':';
    }

    /**
     * The host name, read once. Linux's {@code /proc/sys/kernel/hostname} is preferred because it needs no
     * DNS; elsewhere {@link InetAddress#getLocalHost()} is asked.
     */
    private static final class LocalHostName {
        static final String IDENTITY = asIdentity(find());

        private static String find() {
            try {
                String name = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).strip();
                if (!name.isEmpty()) {
                    return name;
                }
            } catch (IOException | RuntimeException notLinux) {
                // fall through to the resolver
            }
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException | RuntimeException e) {
                return "localhost";
            }
        }

        private static String asIdentity(String hostName) {
            StringBuilder identity = new StringBuilder();
            hostName.codePoints().forEach(c -> identity.appendCodePoint(isIdentityChar(c) ? c : '-'));
            while (identity.toString().getBytes(StandardCharsets.UTF_8).length > MAX_IDENTITY_BYTES) {
                identity.setLength(identity.offsetByCodePoints(identity.length(), -1));
            }
            return identity.length() == 0 ? "localhost" : identity.toString();
        }
    }
}
