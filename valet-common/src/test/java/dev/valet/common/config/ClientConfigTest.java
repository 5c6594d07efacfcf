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
        assertThatCode(defaults::validate).doesNotThrowAnyException();
    }

    @Test
    void readsEveryKey() {
        ClientConfig config = client("""
                identity: db-7@rack.7
                portalList: /etc/valet/portal.list
                connectTimeout: 500ms
                requestTimeout: 1m
                maxPagesPerFrame: 1024
                transport: nio
                """);

        assertThat(config).isEqualTo(new ClientConfig("db-7@rack.7", Path.of("/etc/valet/portal.list"),
                Duration.ofMillis(500), Duration.ofMinutes(1), 1024, TransportChoice.NIO));
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

    @Test
    void acceptsTheEdgesOfEachRange() {
        assertThat(client("maxPagesPerFrame: 1\n").maxPagesPerFrame()).isEqualTo(1);
        assertThat(client("connectTimeout: 1ms\nrequestTimeout: 1h\n").requestTimeout())
                .isEqualTo(Duration.ofHours(1));
    }

    @Test
    void withMethodsChangeOneKey() {
        ClientConfig defaults = ClientConfig.defaults();

        assertThat(defaults.withIdentity("other")).isEqualTo(new ClientConfig("other", defaults.portalList(),
                defaults.connectTimeout(), defaults.requestTimeout(), defaults.maxPagesPerFrame(),
                defaults.transport()));
        assertThat(defaults.withPortalList(Path.of("/x")).portalList()).isEqualTo(Path.of("/x"));
        assertThat(defaults.withConnectTimeout(Duration.ofSeconds(9)).connectTimeout())
                .isEqualTo(Duration.ofSeconds(9));
        assertThat(defaults.withRequestTimeout(Duration.ofSeconds(9)).requestTimeout())
                .isEqualTo(Duration.ofSeconds(9));
        assertThat(defaults.withMaxPagesPerFrame(7).maxPagesPerFrame()).isEqualTo(7);
        assertThat(defaults.withTransport(TransportChoice.EPOLL).transport()).isEqualTo(TransportChoice.EPOLL);
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

        assertThat(ConfigLoader.load(file, ClientConfig.class).portalList()).isEqualTo(directory.resolve("portal.list"));
    }

    @Test
    void absolutePortalListIsKept() throws IOException {
        Path file = Files.writeString(directory.resolve("valet.yaml"), "portalList: /srv/valet/portal.list\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).portalList())
                .isEqualTo(Path.of("/srv/valet/portal.list"));
    }

    @Test
    void defaultIdentityIsAValidIdentity() {
        assertThat(ClientConfig.identityProblem(ClientConfig.defaultIdentity())).isNull();
    }
}
