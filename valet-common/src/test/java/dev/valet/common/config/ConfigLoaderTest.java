package dev.valet.common.config;

import dev.valet.common.portal.DonorAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    @TempDir
    Path directory;

    private static DonorConfig donor(String yaml) {
        return ConfigLoader.parse("donor.yaml", yaml, DonorConfig.class);
    }

    private static void assertDonorFails(String yaml, String message) {
        assertThatThrownBy(() -> donor(yaml)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"", "\n\n", "# nothing but a comment\n", "---\n", "~\n"})
    void emptyDocumentGivesAllDefaults(String yaml) {
        assertThat(donor(yaml)).isEqualTo(DonorConfig.defaults());
        assertThat(ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class)).isEqualTo(ClientConfig.defaults());
    }

    @Test
    void emptyFileGivesAllDefaults() throws IOException {
        Path file = Files.writeString(directory.resolve("donor.yaml"), "");

        assertThat(ConfigLoader.load(file, DonorConfig.class)).isEqualTo(DonorConfig.defaults());
    }

    @Test
    void absentKeysTakeTheirDefaults() {
        assertThat(donor("memory: 8G\n"))
                .isEqualTo(ConfigLoader.override(DonorConfig.defaults(), ConfigOverride.of("memory", "8G")));
    }

    @Test
    void missingFileIsNamed() {
        Path file = directory.resolve("donor.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(file, DonorConfig.class))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.source()).isEqualTo(file.toString());
                    assertThat(e.line()).isZero();
                    assertThat(e.keyPath()).isEmpty();
                })
                .hasMessage(file + ": no such file");
    }

    @Test
    void directoryIsRefused() {
        assertThatThrownBy(() -> ConfigLoader.load(directory, DonorConfig.class))
                .isInstanceOf(ConfigException.class)
                .hasMessage(directory + ": is a directory (expected a YAML file)");
    }

    @Test
    void nonUtf8FileIsRefused() throws IOException {
        Path file = directory.resolve("donor.yaml");
        Files.write(file, "listen: d\u00f6nor:7070\n".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> ConfigLoader.load(file, DonorConfig.class))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ": not UTF-8 text (expected a YAML file)");
    }

    @Test
    void errorsInAFileNameTheFileAsGiven() throws IOException {
        Path file = Files.writeString(directory.resolve("donor.yaml"), "memory: 8G\nmemroy: 8G\n");

        assertThatThrownBy(() -> ConfigLoader.load(file, DonorConfig.class))
                .hasMessageStartingWith(file + ":2:1: memroy: unknown key 'memroy'");
    }

    @Test
    void syntaxErrorGivesLineAndColumn() {
        assertThatThrownBy(() -> donor("memory: 8G\n  lockMemory: true\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.column()).isEqualTo(13);
                    assertThat(e.keyPath()).isEmpty();
                })
                .hasMessage("donor.yaml:2:13: YAML syntax error: mapping values are not allowed here");
    }

    @Test
    void syntaxErrorNamesWhereTheConstructStarted() {
        assertDonorFails("listen: \"0.0.0.0:7070\nmemory: 8G\n", "donor.yaml:3:1: YAML syntax error: found"
                + " unexpected end of stream (while scanning a quoted scalar that starts on line 1)");
    }

    @Test
    void tabIndentationIsASyntaxError() {
        assertThatThrownBy(() -> donor("memory: 8G\n\tlockMemory: true\n"))
                .hasMessageStartingWith("donor.yaml:2:1: YAML syntax error: found character '\\t(TAB)' that"
                        + " cannot start any token");
    }

    @Test
    void unquotedIpv6AddressGetsAHint() {
        assertDonorFails("memory: 8G\nlisten: [::1]:7070\n", "donor.yaml:2:10: YAML syntax error: expected the"
                + " node content, but found ':' (while parsing a flow node); an IPv6 address must be quoted in YAML:"
                + " \"[::1]:7070\"");
    }

    @Test
    void quotedIpv6AddressIsRead() {
        assertThat(donor("listen: \"[::1]:7070\"\n").listen()).isEqualTo(DonorAddress.parse("[::1]:7070"));
    }

    @Test
    void unknownKeyListsTheValidKeysWithTheLine() {
        assertThatThrownBy(() -> donor("listen: 0.0.0.0:7070\n\nmemroy: 8G\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.column()).isEqualTo(1);
                    assertThat(e.keyPath()).isEqualTo("memroy");
                })
                .hasMessage("donor.yaml:3:1: memroy: unknown key 'memroy' (did you mean 'memory'?); valid keys:"
                        + " listen, memory, maxFrameBytes, maxSlabBytes, lockMemory, memorySampleInterval,"
                        + " ewmaWeight, gradientWindow, transport, headroom, auth, tls, limits, metrics");
    }

    @Test
    void unknownKeySuggestsTheCamelCaseSpelling() {
        assertThatThrownBy(() -> donor("max_frame_bytes: 2M\n"))
                .hasMessageStartingWith("donor.yaml:1:1: max_frame_bytes: unknown key 'max_frame_bytes' (did you"
                        + " mean 'maxFrameBytes'?); valid keys: listen, memory,");
    }

    @Test
    void unknownKeyWithNothingCloseMakesNoSuggestion() {
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "colour: red\n", ClientConfig.class))
                .hasMessage("valet.yaml:1:1: colour: unknown key 'colour'; valid keys: identity, portalList,"
                        + " connectTimeout, requestTimeout, maxPagesPerFrame, transport, swapSpace, slabSize,"
                        + " backupDisk, placement, failover, device, hostTier, auth, tls, nbd, metrics, control,"
                        + " encryption");
    }

    @Test
    void wrongTypeSaysWhatWasExpectedWithTheLine() {
        assertDonorFails("memory: 8G\nlockMemory: maybe\n",
                "donor.yaml:2:1: lockMemory: expected true or false, got 'maybe'");
        assertDonorFails("ewmaWeight: heavy\n", "donor.yaml:1:1: ewmaWeight: expected a number, got 'heavy'");
        assertDonorFails("memory: lots\n",
                "donor.yaml:1:1: memory: bad size 'lots' (expected a size like 4096, 64K, 512M or 8G)");
        assertDonorFails("memorySampleInterval: 1000\n", "donor.yaml:1:1: memorySampleInterval: duration '1000'"
                + " has no unit (expected a duration like 500ms, 1s, 2m or 1h: write 1000s or 1000ms, not a bare"
                + " number)");
        assertDonorFails("listen: 7070\n", "donor.yaml:1:1: listen: missing ':port' in '7070' (expected"
                + " host:port, 1.2.3.4:port or [IPv6]:port)");
        assertDonorFails("transport: kqueue\n",
                "donor.yaml:1:1: transport: unknown transport 'kqueue' (expected one of rdma, tcp, auto)");
    }

    @Test
    void quotedNumbersAndBooleansAreNotCoerced() {
        assertDonorFails("lockMemory: \"true\"\n",
                "donor.yaml:1:1: lockMemory: expected true or false, got 'true' (write it without quotes)");
        assertDonorFails("ewmaWeight: '0.5'\n",
                "donor.yaml:1:1: ewmaWeight: expected a number, got '0.5' (write it without quotes)");
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "maxPagesPerFrame: \"64\"\n", ClientConfig.class))
                .hasMessage("valet.yaml:1:1: maxPagesPerFrame: expected a whole number, got '64' (write it without"
                        + " quotes)");
    }

    @Test
    void fractionsAndNumbersAreNotCoercedEither() {
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "maxPagesPerFrame: 1.5\n", ClientConfig.class))
                .hasMessage("valet.yaml:1:1: maxPagesPerFrame: expected a whole number, got 1.5");
        assertThatThrownBy(() -> ConfigLoader.parse("valet.yaml", "maxPagesPerFrame: 99999999999\n",
                ClientConfig.class))
                .hasMessage("valet.yaml:1:1: maxPagesPerFrame: 99999999999 is too large (expected a whole number)");
        assertDonorFails("lockMemory: 1\n", "donor.yaml:1:1: lockMemory: expected true or false, got 1");
    }

    @Test
    void listOrMappingWhereAValueBelongsIsRefused() {
        assertDonorFails("memory:\n  - 8G\n",
                "donor.yaml:1:1: memory: expected a size like 4096, 64K, 512M or 8G, got a list");
        assertDonorFails("memory: {size: 8G}\n",
                "donor.yaml:1:1: memory: expected a size like 4096, 64K, 512M or 8G, got a mapping");
    }

    @Test
    void valueOrListWhereASectionBelongsNamesTheSectionKeys() {
        assertThatThrownBy(() -> ConfigLoader.parse("pool.yaml", "limits: 3\n", Pool.class))
                .hasMessage("pool.yaml:1:1: limits: expected a section with the keys memory, connections (one per"
                        + " line, indented under this key), got 3");
        assertThatThrownBy(() -> ConfigLoader.parse("pool.yaml", "limits: big\n", Pool.class))
                .hasMessage("pool.yaml:1:1: limits: expected a section with the keys memory, connections (one per"
                        + " line, indented under this key), got 'big'");
        assertThatThrownBy(() -> ConfigLoader.parse("pool.yaml", "limits:\n  - 4G\n", Pool.class))
                .hasMessage("pool.yaml:1:1: limits: expected a section with the keys memory, connections (one per"
                        + " line, indented under this key), got a list");
    }

    @Test
    void keyWithoutValueIsRefused() {
        assertDonorFails("listen: 0.0.0.0:7070\nmemory:\n",
                "donor.yaml:2:1: memory: no value given (write a value, or remove the key to use the default)");
        assertDonorFails("memory: ~\n",
                "donor.yaml:1:1: memory: no value given (write a value, or remove the key to use the default)");
    }

    @Test
    void duplicateKeyNamesBothLines() {
        assertDonorFails("memory: 8G\nlockMemory: true\nmemory: 4G\n",
                "donor.yaml:3:1: memory: duplicate key 'memory' (first set on line 1; keep one of them)");
    }

    @Test
    void rootMustBeAMapping() {
        assertDonorFails("- memory\n- 8G\n",
                "donor.yaml:1:1: expected a mapping of keys to values, like 'memory: 8G', got a list");
        assertDonorFails("memory 8G\n", "donor.yaml:1:1: expected a mapping of keys to values, like 'memory: 8G',"
                + " got the text 'memory 8G' (is the ':' after a key missing?)");
    }

    @Test
    void secondDocumentIsRefused() {
        assertDonorFails("memory: 8G\n---\nmemory: 4G\n", "donor.yaml:3:1: only one YAML document is allowed, but"
                + " another one starts here (remove the extra '---' and what follows it)");
    }

    @Test
    void ruleBrokenByAWrittenValuePointsAtItsLine() {
        assertThatThrownBy(() -> donor("memory: 8G\nlockMemory: true\newmaWeight: 1.5\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.column()).isEqualTo(1);
                    assertThat(e.keyPath()).isEqualTo("ewmaWeight");
                    assertThat(e.problem()).isEqualTo("must be greater than 0 and at most 1, got 1.5");
                    assertThat(e.getCause()).isInstanceOf(ConfigProblem.class);
                })
                .hasMessage("donor.yaml:3:1: ewmaWeight: must be greater than 0 and at most 1, got 1.5");
    }

    @Test
    void ruleBrokenByADefaultSaysSo() {
        assertDonorFails("memorySampleInterval: 5s\n", "donor.yaml: gradientWindow: must be at least twice"
                + " memorySampleInterval (10s), got 8s (gradientWindow is not set in this file, so its default"
                + " applies)");
    }

    @Test
    void loadResolvesRelativePathsAgainstTheFileDirectory() throws IOException {
        Path etc = Files.createDirectories(directory.resolve("etc/valet"));
        Path file = Files.writeString(etc.resolve("valet.yaml"), "portalList: lists/../donors.list\n");

        assertThat(ConfigLoader.load(file, ClientConfig.class).portalList()).isEqualTo(etc.resolve("donors.list"));
    }

    @Test
    void parseLeavesRelativePathsAlone() {
        assertThat(ConfigLoader.parse("valet.yaml", "portalList: donors.list\n", ClientConfig.class).portalList())
                .isEqualTo(Path.of("donors.list"));
    }

    /** A nested shape, to show that key paths and lines work below the top level. */
    record Pool(String name, Limits limits, List<DonorAddress> donors) {
    }

    record Limits(ByteSize memory, Integer connections) {
    }

    @Test
    void nestedValuesAreBound() {
        Pool pool = ConfigLoader.parse("pool.yaml", """
                name: rack7
                limits:
                  memory: 4G
                  connections: 8
                donors:
                  - 10.0.7.1:7070
                  - "[fd00::7]:7070"
                """, Pool.class);

        assertThat(pool).isEqualTo(new Pool("rack7", new Limits(ByteSize.parse("4G"), 8),
                List.of(DonorAddress.parse("10.0.7.1:7070"), DonorAddress.parse("[fd00::7]:7070"))));
    }

    @Test
    void nestedErrorsNameTheDottedPathAndLine() {
        assertThatThrownBy(() -> ConfigLoader.parse("pool.yaml", """
                name: rack7
                limits:
                  memory: 4G
                  conections: 8
                """, Pool.class))
                .hasMessage("pool.yaml:4:3: limits.conections: unknown key 'conections' (did you mean"
                        + " 'connections'?); valid keys: memory, connections");
        assertThatThrownBy(() -> ConfigLoader.parse("pool.yaml", """
                name: rack7
                donors:
                  - 10.0.7.1:7070
                  - 10.0.7.2:70x0
                """, Pool.class))
                .hasMessage("pool.yaml:4:5: donors[1]: bad port '70x0' in '10.0.7.2:70x0' (expected 1-65535)");
        assertThatThrownBy(() -> ConfigLoader.parse("pool.yaml", """
                limits:
                  memory: 4G
                  memory: 8G
                """, Pool.class))
                .hasMessage("pool.yaml:3:3: limits.memory: duplicate key 'memory' (first set on line 2; keep one"
                        + " of them)");
    }
}
