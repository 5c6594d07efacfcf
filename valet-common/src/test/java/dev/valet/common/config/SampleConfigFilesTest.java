package dev.valet.common.config;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.portal.PortalList;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The sample files at the repository root are what operators copy; they must load and match the defaults. */
class SampleConfigFilesTest {

    /** Tests run in the module directory; the samples are one level up. */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void sampleDonorYamlIsTheDefaults() {
        assertThat(ConfigLoader.load(ROOT.resolve("donor.yaml"), DonorConfig.class))
                .isEqualTo(DonorConfig.defaults());
    }

    @Test
    void sampleValetYamlIsTheDefaultsWithThePortalListBesideIt() {
        ClientConfig config = ConfigLoader.load(ROOT.resolve("valet.yaml"), ClientConfig.class);

        assertThat(config).isEqualTo(ConfigLoader.override(ClientConfig.defaults(),
                ConfigOverride.of("portalList", ROOT.resolve("portal.list"))));
    }

    @Test
    void samplePortalListNamesThreeLoopbackDonors() {
        ClientConfig config = ConfigLoader.load(ROOT.resolve("valet.yaml"), ClientConfig.class);

        assertThat(PortalList.parse(config.portalList())).containsExactly(
                DonorAddress.parse("127.0.0.1:7070"),
                DonorAddress.parse("127.0.0.1:7071"),
                DonorAddress.parse("127.0.0.1:7072"));
    }

    @Test
    void samplesAndDocumentationMentionEveryKey() throws IOException {
        String docs = Files.readString(ROOT.resolve("docs/configuration.md"));

        assertSampleAndDocsMentionEveryKey(DonorConfig.class, "donor.yaml", docs);
        assertSampleAndDocsMentionEveryKey(ClientConfig.class, "valet.yaml", docs);
    }

    @Test
    void keyPathsReachIntoNestedSections() {
        assertThat(keyPaths(ClientConfig.class, "")).contains("swapSpace", "placement", "placement.numReplica",
                "placement.weights", "placement.weights.freeMemoryGradient", "failover.reReplicationRate")
                .doesNotContain("swapSpace.bytes", "placement.weights.load.value");
    }

    @Test
    void documentationTablesListOnlyRealKeys() throws IOException {
        String docs = Files.readString(ROOT.resolve("docs/configuration.md"));

        assertThat(tableKeys(docs, "donor.yaml")).isNotEmpty()
                .isSubsetOf(keyPaths(DonorConfig.class, ""));
        assertThat(tableKeys(docs, "valet.yaml")).isNotEmpty()
                .isSubsetOf(keyPaths(ClientConfig.class, ""));
    }

    @Test
    void documentationNamesTheSeedDefinesTheClientKeysReplace() throws IOException {
        String docs = Files.readString(ROOT.resolve("docs/configuration.md"));

        assertThat(docs).contains("SWAPSPACE_SIZE_G", "NUM_REPLICA", "SERVER_SELECT_NUM", "BACKUP_DISK");
    }

    /** The YAML examples in the {@code valet.yaml} part of the documentation load, and the error examples hold. */
    @Test
    void documentedValetYamlExampleLoadsAndItsErrorsAreTheOnesShown() throws IOException {
        String docs = Files.readString(ROOT.resolve("docs/configuration.md"));
        List<String> examples = codeBlocks(section(docs, "valet.yaml"), "yaml");
        assertThat(examples).isNotEmpty();
        for (String example : examples) {
            assertThat(ConfigLoader.parse("valet.yaml", example, ClientConfig.class)).isNotNull();
        }
        String example = examples.get(0);
        ClientConfig config = ConfigLoader.parse("valet.yaml", example, ClientConfig.class);
        assertThat(config.placement()).isNotEqualTo(PlacementConfig.DEFAULTS);
        assertThat(config.failover()).isNotEqualTo(FailoverConfig.DEFAULTS);
        String[] broken = {
            example.replace("numReplica: 3", "numReplica: 9"),
            example.replace("load: 0.5", "lod: 0.5"),
            example.replace("donorTimeout: 2s", "donorTimeout: 900ms"),
        };
        for (String yaml : broken) {
            assertThat(yaml).isNotEqualTo(example);
            Throwable error = catchThrowable(() -> ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class));
            assertThat(error).isInstanceOf(ConfigException.class);
            assertThat(docs).as("docs/configuration.md shows the error").contains(error.getMessage());
        }
    }

    /**
     * Every key, nested ones included, must be set in the sample (a top-level key may instead be shown commented
     * out, as {@code # identity: my-host} is, when its default cannot be written down) and have a row in the
     * documentation's table; a section ({@code placement}) must be named in the documentation.
     */
    private static void assertSampleAndDocsMentionEveryKey(Class<?> type, String sample, String docs)
            throws IOException {
        String text = Files.readString(ROOT.resolve(sample));
        YamlDocument index = YamlDocument.scan(sample, text, new YAMLMapper());
        for (String path : keyPaths(type, "")) {
            boolean commentedOut = !path.contains(".") && text.contains("# " + path + ":");
            assertThat(index.locationOf(path).isPresent() || commentedOut)
                    .as("%s sets %s", sample, path).isTrue();
            if (isSection(componentType(type, path))) {
                assertThat(docs).as("docs/configuration.md names section %s", path).contains("`" + path + "`");
            } else {
                assertThat(docs).as("docs/configuration.md has a table row for %s", path)
                        .contains("| `" + path + "`");
            }
        }
    }

    /**
     * The key path of every component of a configuration record, and of every component of the sections nested in
     * it, as written in YAML and in the documentation: {@code swapSpace}, {@code placement},
     * {@code placement.weights.load}.
     */
    static List<String> keyPaths(Class<?> type, String prefix) {
        List<String> paths = new ArrayList<>();
        for (RecordComponent component : type.getRecordComponents()) {
            String path = prefix + component.getName();
            paths.add(path);
            if (isSection(component.getType())) {
                paths.addAll(keyPaths(component.getType(), path + "."));
            }
        }
        return paths;
    }

    /**
     * Whether a component's type is a section of keys ({@code placement:} followed by an indented mapping) rather
     * than a value: sections are records; value records such as {@link ByteSize} are read from one scalar by
     * {@link ConfigModule}.
     */
    private static boolean isSection(Class<?> type) {
        return ConfigTree.isSection(type);
    }

    private static Class<?> componentType(Class<?> type, String path) {
        Class<?> current = type;
        for (String key : path.split("\\.")) {
            Class<?> owner = current;
            current = Arrays.stream(owner.getRecordComponents()).filter(c -> c.getName().equals(key)).findFirst()
                    .orElseThrow(() -> new AssertionError("no key " + key + " in " + owner)).getType();
        }
        return current;
    }

    /** The part of the documentation under the heading {@code ## `file`}, up to the next such heading. */
    private static String section(String docs, String file) {
        String heading = "## `" + file + "`";
        int start = docs.indexOf(heading);
        assertThat(start).as("docs/configuration.md has a heading %s", heading).isNotNegative();
        int end = docs.indexOf("\n## ", start + heading.length());
        return docs.substring(start, end < 0 ? docs.length() : end);
    }

    /** The contents of the fenced code blocks marked {@code ```language}. */
    private static List<String> codeBlocks(String markdown, String language) {
        List<String> blocks = new ArrayList<>();
        Matcher block = Pattern.compile("(?ms)^```" + language + "\n(.*?)^```").matcher(markdown);
        while (block.find()) {
            blocks.add(block.group(1));
        }
        return blocks;
    }

    /** The keys in the first column of the table under the heading {@code ## `file`}. */
    private static List<String> tableKeys(String docs, String file) {
        String section = section(docs, file);
        List<String> keys = new ArrayList<>();
        Matcher row = Pattern.compile("(?m)^\\| `([^`]+)`").matcher(section);
        while (row.find()) {
            keys.add(row.group(1));
        }
        return keys;
    }
}
