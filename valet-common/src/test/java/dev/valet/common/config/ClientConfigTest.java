package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientConfigTest {

    @TempDir
    Path directory;

    private static ClientConfig client(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        ClientConfig defaults = ClientConfig.defaults();

        assertThat(defaults.identity()).isEqualTo(ClientConfig.defaultIdentity()).isNotEmpty();
        assertThat(defaults.portalList()).isEqualTo(Path.of("portal.list"));
        assertThat(defaults.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(defaults.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(defaults.maxPagesPerFrame()).isEqualTo(128);
        assertThat(defaults.transport()).isEqualTo(TransportChoice.AUTO);
        assertThat(defaults.swapSpace()).hasToString("8G");
        assertThat(defaults.slabSize()).hasToString("1G");
        assertThat(defaults.backupDisk()).isEqualTo("none");
        assertThat(defaults.backupDiskPath()).isEmpty();
        assertThat(defaults.slabCount()).isEqualTo(8);
        assertThat(defaults.placement()).isEqualTo(PlacementConfig.DEFAULTS);
        assertThat(defaults.failover()).isEqualTo(FailoverConfig.DEFAULTS);
        assertThat(defaults.device()).isEqualTo(DeviceConfig.DEFAULTS);
        assertThatCode(defaults::validate).doesNotThrowAnyException();
    }

    @Test
    void emptyFileGivesTheDefaultsOfTheNewKeysToo() {
        ClientConfig config = client("transport: auto\n");

        assertThat(config.swapSpace()).isEqualTo(ByteSize.ofGibibytes(8));
        assertThat(config.slabSize()).isEqualTo(ByteSize.ofGibibytes(1));
        assertThat(config.backupDiskPath()).isEmpty();
        assertThat(config.placement()).isEqualTo(new PlacementConfig(2, 4, new RankWeights(1.0, 1.0, 0.5, 0.5)));
        assertThat(config.failover()).isEqualTo(new FailoverConfig(Duration.ofSeconds(1), Duration.ofSeconds(3),
                ByteSize.ofMebibytes(256), ByteSize.ofGibibytes(1), Duration.ofSeconds(60), Duration.ofMinutes(2)));
        assertThat(config.device()).isEqualTo(new DeviceConfig(256, Duration.ofSeconds(60), Duration.ofSeconds(30),
                ByteSize.ofMebibytes(8)));
    }

    @Test
    void readsEveryKeyIncludingTheNestedSections() {
        ClientConfig config = client("""
                identity: db-7
                portalList: donors.list
                connectTimeout: 1s
                requestTimeout: 2s
                maxPagesPerFrame: 64
                transport: tcp
                swapSpace: 32G
                slabSize: 256M
                backupDisk: /dev/sdb
                placement:
                  numReplica: 3
                  serverSelectNum: 16
                  weights:
                    freeMemory: 2
                    freeMemoryGradient: 0.25
                    load: 0
                    latency: 1000
                failover:
                  heartbeatInterval: 250ms
                  donorTimeout: 1500ms
                  reReplicationRate: 1G
                device:
                  queueDepth: 64
                  holdTimeout: 5m
                  ioTimeout: 10s
                  dataArea: 64M
                """);

        assertThat(config).isEqualTo(new ClientConfig("db-7", Path.of("donors.list"), Duration.ofSeconds(1),
                Duration.ofSeconds(2), 64, TransportChoice.TCP, ByteSize.ofGibibytes(32), ByteSize.ofMebibytes(256),
                "/dev/sdb", new PlacementConfig(3, 16, new RankWeights(2.0, 0.25, 0.0, 1000.0)),
                new FailoverConfig(Duration.ofMillis(250), Duration.ofMillis(1500), ByteSize.ofGibibytes(1),
                        ByteSize.ofGibibytes(1), Duration.ofSeconds(60), Duration.ofMinutes(2)),
                new DeviceConfig(64, Duration.ofMinutes(5), Duration.ofSeconds(10), ByteSize.ofMebibytes(64)),
                HostTierConfig.DEFAULTS, AuthConfig.DEFAULTS, TlsConfig.DEFAULTS, NbdConfig.DEFAULTS,
                MetricsConfig.DEFAULTS, ControlConfig.DEFAULTS, EncryptionConfig.DEFAULTS));
        assertThat(config.backupDiskPath()).contains(Path.of("/dev/sdb"));
        assertThat(config.slabCount()).isEqualTo(128);
    }

    @Test
    void readsEveryKey() {
        ClientConfig config = client("""
                identity: db-7@rack.7
                portalList: /etc/valet/portal.list
                connectTimeout: 500ms
                requestTimeout: 1m
                maxPagesPerFrame: 1024
                transport: rdma
                """);

        assertThat(config).isEqualTo(new ClientConfig("db-7@rack.7", Path.of("/etc/valet/portal.list"),
                Duration.ofMillis(500), Duration.ofMinutes(1), 1024, TransportChoice.RDMA,
                ByteSize.ofGibibytes(8), ByteSize.ofGibibytes(1), "none",
                PlacementConfig.DEFAULTS, FailoverConfig.DEFAULTS, DeviceConfig.DEFAULTS, HostTierConfig.DEFAULTS,
                AuthConfig.DEFAULTS, TlsConfig.DEFAULTS, NbdConfig.DEFAULTS, MetricsConfig.DEFAULTS,
                ControlConfig.DEFAULTS, EncryptionConfig.DEFAULTS));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"db7", "host.example.com", "user@host:1", "a_b-c", "Ünïcødé-名前", "1"})
    void acceptsIdentitiesOfLettersDigitsAndSeparators(String identity) {
        assertThat(client("identity: \"" + identity + "\"\n").identity()).isEqualTo(identity);
    }

    @Test
    void identityLengthIsCountedInUtf8Bytes() {
        String at255 = "é".repeat(127) + "a";
        String at256 = "é".repeat(128);

        assertThat(client("identity: " + at255 + "\n").identity()).isEqualTo(at255);
        assertThatThrownBy(() -> client("connectTimeout: 1s\nidentity: " + at256 + "\n"))
                .hasMessage("valet.yaml:2:1: identity: must be 1 to 255 bytes of UTF-8, got 256");
        assertThatThrownBy(() -> client("identity: ''\n"))
                .hasMessage("valet.yaml:1:1: identity: must be 1 to 255 bytes of UTF-8, got 0");
    }

    @Test
    void identityRefusesOtherCharacters() {
        assertThatThrownBy(() -> client("identity: db 7\n"))
                .hasMessage("valet.yaml:1:1: identity: character ' ' at position 3 is not allowed in 'db 7' (use"
                        + " letters, digits and - _ . @ :)");
        assertThatThrownBy(() -> client("identity: db/7\n"))
                .hasMessageContaining("character '/' at position 3 is not allowed");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            maxPagesPerFrame | 0    | must be between 1 and 1024, got 0
            maxPagesPerFrame | 1025 | must be between 1 and 1024, got 1025
            maxPagesPerFrame | -1   | must be between 1 and 1024, got -1
            connectTimeout   | 0s   | must be between 1ms and 1h, got 0s
            connectTimeout   | 2h   | must be between 1ms and 1h, got 2h
            requestTimeout   | 0ms  | must be between 1ms and 1h, got 0s
            requestTimeout   | 61m  | must be between 1ms and 1h, got 61m
            """)
    void refusesValuesOutsideTheirRangeNamingKeyAndLine(String key, String value, String problem) {
        assertThatThrownBy(() -> client("transport: auto\n" + key + ": " + value + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:2:1: " + key + ": " + problem);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            swapSpace | 0      | must be between 4K and 1024T, got 0
            swapSpace | 2048T  | must be between 4K and 1024T, got 2048T
            swapSpace | 10000  | must be a multiple of 4K (4096 bytes), got 10000
            swapSpace | 8193   | must be a multiple of 4K (4096 bytes), got 8193
            slabSize  | 0      | must be between 4K and 1G, got 0
            slabSize  | 2K     | must be between 4K and 1G, got 2K
            slabSize  | 2G     | must be between 4K and 1G, got 2G
            slabSize  | 6000   | must be a multiple of 4K (4096 bytes), got 6000
            slabSize  | 1025M  | must be between 4K and 1G, got 1025M
            backupDisk | ''    | must be a path or none
            backupDisk | '   ' | must be a path or none
            """)
    void refusesBadSizesAndBackupDiskNamingKeyAndLine(String key, String value, String problem) {
        assertThatThrownBy(() -> client("transport: auto\n" + key + ": " + value + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:2:1: " + key + ": " + problem);
    }

    @Test
    void refusesSizesAndBackupDiskOfTheWrongShape() {
        assertThatThrownBy(() -> client("swapSpace: 1.5G\n")).hasMessage("valet.yaml:1:1: swapSpace: bad size"
                + " '1.5G' (expected a size like 4096, 64K, 512M or 8G; fractions are not allowed, use a smaller unit:"
                + " 1536M rather than 1.5G)");
        assertThatThrownBy(() -> client("slabSize: 2P\n")).hasMessage("valet.yaml:1:1: slabSize: bad size '2P'"
                + " (expected a size like 4096, 64K, 512M or 8G; units are K, M, G and T)");
        assertThatThrownBy(() -> client("backupDisk:\n")).hasMessage("valet.yaml:1:1: backupDisk: no value given"
                + " (write a value, or remove the key to use the default)");
        assertThatThrownBy(() -> client("backupDisk: [/dev/sdb]\n"))
                .hasMessage("valet.yaml:1:1: backupDisk: expected text, got a list");
    }

    @Test
    void acceptsTheEdgesOfTheSizeRanges() {
        assertThat(client("swapSpace: 4K\nslabSize: 4K\n").slabCount()).isEqualTo(1);
        assertThat(client("swapSpace: 1024T\nslabSize: 1G\n").slabCount()).isEqualTo(1L << 20);
        assertThat(client("swapSpace: 4096\n").swapSpace()).isEqualTo(ByteSize.ofKibibytes(4));
        assertThat(client("slabSize: 1073741824\n").slabSize()).isEqualTo(ByteSize.ofGibibytes(1));
    }

    @ParameterizedTest(name = "swapSpace {0}, slabSize {1}: {2} slabs")
    @CsvSource(delimiter = '|', textBlock = """
            8G      | 1G   | 8
            12K     | 4K   | 3
            1G      | 1G   | 1
            4K      | 1G   | 1
            10M     | 4M   | 3
            2097156K | 1G  | 3
            1028K   | 512K | 3
            1025M   | 1G   | 2
            """)
    void slabCountRoundsUpWhenTheSwapSpaceIsNotAWholeNumberOfSlabs(String swapSpace, String slabSize, long slabs) {
        ClientConfig config = client("swapSpace: " + swapSpace + "\nslabSize: " + slabSize + "\n");

        assertThat(config.slabCount()).isEqualTo(slabs);
        assertThat(config.slabCount() * config.slabSize().bytes()).isGreaterThanOrEqualTo(config.swapSpace().bytes());
        assertThat((config.slabCount() - 1) * config.slabSize().bytes()).isLessThan(config.swapSpace().bytes());
    }

    @Test
    void rulesBrokenInNestedSectionsNameTheDottedKey() {
        assertThatThrownBy(() -> defaultsWith(new PlacementConfig(9, 4, RankWeights.DEFAULTS),
                FailoverConfig.DEFAULTS, DeviceConfig.DEFAULTS).validate())
                .isInstanceOfSatisfying(ConfigProblem.class, p -> {
                    assertThat(p.keyPath()).isEqualTo("placement.numReplica");
                    assertThat(p.problem()).isEqualTo("must be between 1 and 8, got 9");
                })
                .hasMessage("placement.numReplica: must be between 1 and 8, got 9");
        assertThatThrownBy(() -> defaultsWith(new PlacementConfig(2, 4, new RankWeights(1, 1, -1, 1)),
                FailoverConfig.DEFAULTS, DeviceConfig.DEFAULTS).validate())
                .hasMessage("placement.weights.load: must be between 0 and 1000, got -1.0");
        assertThatThrownBy(() -> defaultsWith(PlacementConfig.DEFAULTS, new FailoverConfig(Duration.ofSeconds(1),
                Duration.ofSeconds(1), ByteSize.ofMebibytes(256), ByteSize.ofGibibytes(1), Duration.ofSeconds(60),
                Duration.ofMinutes(2)), DeviceConfig.DEFAULTS).validate())
                .hasMessage("failover.donorTimeout: must be at least twice heartbeatInterval (2s) and at most 1h,"
                        + " got 1s");
        assertThatThrownBy(() -> defaultsWith(PlacementConfig.DEFAULTS, FailoverConfig.DEFAULTS,
                new DeviceConfig(0, Duration.ofSeconds(60), Duration.ofSeconds(30), ByteSize.ofMebibytes(8)))
                .validate())
                .hasMessage("device.queueDepth: must be between 1 and 4096, got 0");
        assertThatThrownBy(() -> defaultsWith(ByteSize.ofBytes(6000), "none").validate())
                .hasMessage("slabSize: must be a multiple of 4K (4096 bytes), got 6000");
        assertThatThrownBy(() -> defaultsWith(ByteSize.ofGibibytes(1), "").validate())
                .hasMessage("backupDisk: must be a path or none");
    }

    @Test
    void acceptsTheEdgesOfEachRange() {
        assertThat(client("maxPagesPerFrame: 1\n").maxPagesPerFrame()).isEqualTo(1);
        assertThat(client("connectTimeout: 1ms\nrequestTimeout: 1h\n").requestTimeout())
                .isEqualTo(Duration.ofHours(1));
    }

    @Test
    void overridesChangeOneKey() {
        ClientConfig defaults = ClientConfig.defaults();

        assertThat(override(defaults, "identity", "other")).isEqualTo(new ClientConfig("other", defaults.portalList(),
                defaults.connectTimeout(), defaults.requestTimeout(), defaults.maxPagesPerFrame(),
                defaults.transport(), defaults.swapSpace(), defaults.slabSize(), defaults.backupDisk(),
                defaults.placement(), defaults.failover(), defaults.device(), defaults.hostTier(), defaults.auth(),
                defaults.tls(), defaults.nbd(), defaults.metrics(), defaults.control(), defaults.encryption()));
        assertThat(override(defaults, "portalList", "/x").portalList()).isEqualTo(Path.of("/x"));
        assertThat(override(defaults, "connectTimeout", "9s").connectTimeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(override(defaults, "requestTimeout", Duration.ofSeconds(9)).requestTimeout())
                .isEqualTo(Duration.ofSeconds(9));
        assertThat(override(defaults, "maxPagesPerFrame", "7").maxPagesPerFrame()).isEqualTo(7);
        assertThat(override(defaults, "transport", TransportChoice.TCP).transport()).isEqualTo(TransportChoice.TCP);
        assertThat(override(defaults, "swapSpace", "2G").swapSpace()).hasToString("2G");
        assertThat(override(defaults, "slabSize", ByteSize.ofMebibytes(64)).slabSize()).hasToString("64M");
        assertThat(override(defaults, "backupDisk", "/dev/sdb").backupDisk()).isEqualTo("/dev/sdb");
        PlacementConfig placement = new PlacementConfig(3, 9, RankWeights.DEFAULTS);
        assertThat(override(defaults, "placement", placement).placement()).isEqualTo(placement);
        assertThat(override(defaults, "failover.heartbeatInterval", "100ms").failover()).isEqualTo(new FailoverConfig(
                Duration.ofMillis(100), Duration.ofSeconds(3), ByteSize.ofMebibytes(256), ByteSize.ofGibibytes(1),
                Duration.ofSeconds(60), Duration.ofMinutes(2)));
        assertThat(override(defaults, "device.queueDepth", 32).device()).isEqualTo(new DeviceConfig(32,
                Duration.ofSeconds(60), Duration.ofSeconds(30), ByteSize.ofMebibytes(8)));
        ConfigOverride swapSpace = ConfigOverride.of("swapSpace", "2G");
        ConfigOverride placed = ConfigOverride.of("placement", placement);
        assertThat(ConfigLoader.override(defaults, swapSpace, placed))
                .isEqualTo(ConfigLoader.override(defaults, placed, swapSpace))
                .isEqualTo(new ClientConfig(defaults.identity(), defaults.portalList(), defaults.connectTimeout(),
                        defaults.requestTimeout(), defaults.maxPagesPerFrame(), defaults.transport(),
                        ByteSize.ofGibibytes(2), defaults.slabSize(), defaults.backupDisk(), placement,
                        defaults.failover(), defaults.device(), defaults.hostTier(), defaults.auth(), defaults.tls(),
                        defaults.nbd(), defaults.metrics(), defaults.control(), defaults.encryption()));
    }

    private static ClientConfig override(ClientConfig config, String keyPath, Object value) {
        return ConfigLoader.override(config, ConfigOverride.of(keyPath, value));
    }

    /** The defaults with these sections, not validated: for calling validate() itself. */
    private static ClientConfig defaultsWith(PlacementConfig placement, FailoverConfig failover, DeviceConfig device) {
        ClientConfig d = ClientConfig.defaults();
        return new ClientConfig(d.identity(), d.portalList(), d.connectTimeout(), d.requestTimeout(),
                d.maxPagesPerFrame(), d.transport(), d.swapSpace(), d.slabSize(), d.backupDisk(), placement, failover,
                device, d.hostTier(), d.auth(), d.tls(), d.nbd(), d.metrics(), d.control(), d.encryption());
    }

    /** The defaults with this slab size and backup disk, not validated: for calling validate() itself. */
    private static ClientConfig defaultsWith(ByteSize slabSize, String backupDisk) {
        ClientConfig d = ClientConfig.defaults();
        return new ClientConfig(d.identity(), d.portalList(), d.connectTimeout(), d.requestTimeout(),
                d.maxPagesPerFrame(), d.transport(), d.swapSpace(), slabSize, backupDisk, d.placement(), d.failover(),
                d.device(), d.hostTier(), d.auth(), d.tls(), d.nbd(), d.metrics(), d.control(), d.encryption());
    }

    @Test
    void relativePortalListResolvesAgainstTheYamlDirectory() throws IOException {
        Path config = Files.createDirectories(directory.resolve("conf"));
        Path file = Files.writeString(config.resolve("valet.yaml"), "portalList: donors/rack7.list\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).portalList())
                .isEqualTo(config.resolve("donors/rack7.list"));
    }

    @Test
    void defaultPortalListIsBesideTheYamlFile() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "requestTimeout: 1s\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).portalList())
                .isEqualTo(directory.resolve("portal.list"));
    }

    @Test
    void absolutePortalListIsKept() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "portalList: /srv/valet/portal.list\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).portalList())
                .isEqualTo(Path.of("/srv/valet/portal.list"));
    }

    @Test
    void relativeBackupDiskResolvesAgainstTheYamlDirectory() throws IOException {
        Path config = Files.createDirectories(directory.resolve("conf"));
        Path file = Files.writeString(config.resolve("valet.yaml"), "backupDisk: disks/../backup.img\n");

        ClientConfig loaded = ConfigLoader.load(file, ClientConfig.class);

        assertThat(loaded.backupDiskPath()).contains(config.resolve("backup.img"));
        assertThat(loaded.backupDisk()).isEqualTo(config.resolve("backup.img").toString());
    }

    @Test
    void absoluteBackupDiskIsKept() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "backupDisk: /dev/sdb\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).backupDiskPath()).contains(Path.of("/dev/sdb"));
    }

    @Test
    void backupDiskNoneIsNoBackupDiskAndIsNotResolved() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "backupDisk: none\n");
        Path defaulted = Files.writeString(directory.resolve("other.yaml"), "transport: rdma\n");

        ClientConfig loaded = ConfigLoader.load(file, ClientConfig.class);

        assertThat(loaded.backupDisk()).isEqualTo("none");
        assertThat(loaded.backupDiskPath()).isEmpty();
        assertThat(ConfigLoader.load(defaulted, ClientConfig.class).backupDiskPath()).isEmpty();
        assertThat(client("backupDisk: none\n").backupDiskPath()).isEmpty();
    }

    @Test
    void parseLeavesARelativeBackupDiskAlone() {
        assertThat(client("backupDisk: backup.img\n").backupDiskPath()).contains(Path.of("backup.img"));
    }

    /** Only the exact word {@code none} turns the backup disk off; anything else is a path, as documented. */
    @Test
    void noneIsCaseSensitive() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "backupDisk: None\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).backupDiskPath()).contains(directory.resolve("None"));
    }

    @Test
    void blankBackupDiskInAFileIsRefusedWithItsLine() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "backupDisk: ''\n");

        assertThatThrownBy(() -> ConfigLoader.load(file, ClientConfig.class))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ":1:1: backupDisk: must be a path or none");
    }

    @Test
    void backupDiskThatIsNoPathIsAConfigErrorWithItsLine() throws IOException {
        String yaml = "backupDisk: \"disk\\0img\"\n";
        Path file = Files.writeString(directory.resolve("valet.yaml"), yaml);

        assertThatThrownBy(() -> ConfigLoader.load(file, ClientConfig.class))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":1:1: backupDisk: 'disk\\0img' is not a valid path");
        assertThatThrownBy(() -> client(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("backupDisk: 'disk\\0img' is not a valid path");
    }

    @Test
    void defaultIdentityIsAValidIdentity() {
        assertThat(ClientConfig.identityProblem(ClientConfig.defaultIdentity())).isNull();
    }
}
