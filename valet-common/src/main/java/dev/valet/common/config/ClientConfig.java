package dev.valet.common.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The client daemon's settings, read from {@code valet.yaml}. Every key is optional; an absent key takes the
 * default documented on its component below and in {@code docs/configuration.md}. Command-line flags override
 * the file through the {@code with...} methods; call {@link #validate()} after applying them.
 *
 * <p>To add a key: add the component, its {@code DEFAULT_} constant, a {@code @JsonProperty} parameter to
 * {@link #fromYaml}, a {@code with...} method, its rule in {@link #validate()}, and a line in the sample
 * {@code valet.yaml} and {@code docs/configuration.md}. Keep creator parameters as wrapper types so an absent
 * key arrives as {@code null}.
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
 * @param auth             the cluster secret the client proves and demands; see {@link AuthConfig}. With no
 *                         secret, a donor not on loopback is refused unless {@code auth.allowUnauthenticated}
 * @param tls              TLS to the donors; see {@link TlsConfig}
 */
public record ClientConfig(
        String identity,
        Path portalList,
        Duration connectTimeout,
        Duration requestTimeout,
        int maxPagesPerFrame,
        TransportChoice transport,
        ByteSize swapSpace,
        ByteSize slabSize,
        String backupDisk,
        PlacementConfig placement,
        FailoverConfig failover,
        DeviceConfig device,
        AuthConfig auth,
        TlsConfig tls) implements ValidatedConfig, FileRelativeConfig<ClientConfig> {

    public static final Path DEFAULT_PORTAL_LIST = Path.of("portal.list");
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_PAGES_PER_FRAME = 128;
    public static final TransportChoice DEFAULT_TRANSPORT = TransportChoice.AUTO;
    public static final ByteSize DEFAULT_SWAP_SPACE = ByteSize.ofGibibytes(8);
    public static final ByteSize DEFAULT_SLAB_SIZE = ByteSize.ofGibibytes(1);
    /** The {@code backupDisk} value that means "no backup disk". */
    public static final String NO_BACKUP_DISK = OptionalPath.NONE;

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
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(tls, "tls");
    }

    /** Every key at its default: what an empty {@code valet.yaml} gives, before relative paths are resolved. */
    public static ClientConfig defaults() {
        return new ClientConfig(defaultIdentity(), DEFAULT_PORTAL_LIST, DEFAULT_CONNECT_TIMEOUT,
                DEFAULT_REQUEST_TIMEOUT, DEFAULT_MAX_PAGES_PER_FRAME, DEFAULT_TRANSPORT, DEFAULT_SWAP_SPACE,
                DEFAULT_SLAB_SIZE, NO_BACKUP_DISK, PlacementConfig.DEFAULTS, FailoverConfig.DEFAULTS,
                DeviceConfig.DEFAULTS, AuthConfig.DEFAULTS, TlsConfig.DEFAULTS);
    }

    /**
     * This machine's host name made into a valid identity (disallowed characters become {@code -}), or
     * {@code localhost} if the name cannot be found.
     */
    public static String defaultIdentity() {
        return LocalHostName.IDENTITY;
    }

    /** Binds YAML; a key that is absent arrives as null and takes its default. */
    @JsonCreator
    private static ClientConfig fromYaml(
            @JsonProperty("identity") String identity,
            @JsonProperty("portalList") Path portalList,
            @JsonProperty("connectTimeout") Duration connectTimeout,
            @JsonProperty("requestTimeout") Duration requestTimeout,
            @JsonProperty("maxPagesPerFrame") Integer maxPagesPerFrame,
            @JsonProperty("transport") TransportChoice transport,
            @JsonProperty("swapSpace") ByteSize swapSpace,
            @JsonProperty("slabSize") ByteSize slabSize,
            @JsonProperty("backupDisk") String backupDisk,
            @JsonProperty("placement") PlacementConfig placement,
            @JsonProperty("failover") FailoverConfig failover,
            @JsonProperty("device") DeviceConfig device,
            @JsonProperty("auth") AuthConfig auth,
            @JsonProperty("tls") TlsConfig tls) {
        return new ClientConfig(
                identity != null ? identity : defaultIdentity(),
                Objects.requireNonNullElse(portalList, DEFAULT_PORTAL_LIST),
                Objects.requireNonNullElse(connectTimeout, DEFAULT_CONNECT_TIMEOUT),
                Objects.requireNonNullElse(requestTimeout, DEFAULT_REQUEST_TIMEOUT),
                Objects.requireNonNullElse(maxPagesPerFrame, DEFAULT_MAX_PAGES_PER_FRAME),
                Objects.requireNonNullElse(transport, DEFAULT_TRANSPORT),
                Objects.requireNonNullElse(swapSpace, DEFAULT_SWAP_SPACE),
                Objects.requireNonNullElse(slabSize, DEFAULT_SLAB_SIZE),
                Objects.requireNonNullElse(backupDisk, NO_BACKUP_DISK),
                Objects.requireNonNullElse(placement, PlacementConfig.DEFAULTS),
                Objects.requireNonNullElse(failover, FailoverConfig.DEFAULTS),
                Objects.requireNonNullElse(device, DeviceConfig.DEFAULTS),
                Objects.requireNonNullElse(auth, AuthConfig.DEFAULTS),
                Objects.requireNonNullElse(tls, TlsConfig.DEFAULTS));
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
        ConfigRules.inSection("auth", auth::validate);
        ConfigRules.inSection("tls", () -> tls.validate(false));
    }

    /** The backup disk, or empty when {@code backupDisk} is {@code none}. */
    public Optional<Path> backupDiskPath() {
        return OptionalPath.of(backupDisk);
    }

    /** Number of slabs the swap space is cut into (the last may be partly beyond the end of the swap space). */
    public long slabCount() {
        return (swapSpace.bytes() + slabSize.bytes() - 1) / slabSize.bytes();
    }

    /** Resolves {@code portalList} against the YAML file's directory unless it is absolute. */
    @Override
    public ClientConfig resolveRelativePaths(Path directory) {
        return withPortalList(directory.resolve(portalList).normalize())
                .withBackupDisk(OptionalPath.resolve(directory, backupDisk))
                .withAuth(auth.resolveRelativePaths(directory))
                .withTls(tls.resolveRelativePaths(directory));
    }

    public ClientConfig withIdentity(String identity) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withPortalList(Path portalList) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withConnectTimeout(Duration connectTimeout) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withRequestTimeout(Duration requestTimeout) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withMaxPagesPerFrame(int maxPagesPerFrame) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withTransport(TransportChoice transport) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withSwapSpace(ByteSize swapSpace) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withSlabSize(ByteSize slabSize) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withBackupDisk(String backupDisk) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withPlacement(PlacementConfig placement) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withFailover(FailoverConfig failover) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withDevice(DeviceConfig device) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withAuth(AuthConfig auth) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
    }

    public ClientConfig withTls(TlsConfig tls) {
        return new ClientConfig(identity, portalList, connectTimeout, requestTimeout, maxPagesPerFrame, transport,
                swapSpace, slabSize, backupDisk, placement, failover, device, auth, tls);
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
