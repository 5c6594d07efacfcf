package dev.valet.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code placement:} section of valet.yaml, with its {@code weights:} subsection, read through the loader. */
class PlacementConfigTest {

    private static ClientConfig client(String yaml) {
        return ConfigLoader.parse("valet.yaml", yaml, ClientConfig.class);
    }

    private static PlacementConfig placement(String yaml) {
        return client(yaml).placement();
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        PlacementConfig defaults = PlacementConfig.DEFAULTS;

        assertThat(defaults.numReplica()).isEqualTo(2);
        assertThat(defaults.serverSelectNum()).isEqualTo(4);
        assertThat(defaults.weights()).isEqualTo(RankWeights.DEFAULTS);
        assertThat(RankWeights.DEFAULTS.freeMemory()).isEqualTo(1.0);
        assertThat(RankWeights.DEFAULTS.freeMemoryGradient()).isEqualTo(1.0);
        assertThat(RankWeights.DEFAULTS.load()).isEqualTo(0.5);
        assertThat(RankWeights.DEFAULTS.latency()).isEqualTo(0.5);
        assertThatCode(defaults::validate).doesNotThrowAnyException();
    }

    @Test
    void readsEveryKey() {
        assertThat(placement("""
                placement:
                  numReplica: 3
                  serverSelectNum: 10
                  weights:
                    freeMemory: 4
                    freeMemoryGradient: 0.125
                    load: 0
                    latency: 2.5
                """)).isEqualTo(new PlacementConfig(3, 10, new RankWeights(4.0, 0.125, 0.0, 2.5)));
    }

    @Test
    void absentKeysInASectionTakeTheirDefaults() {
        assertThat(placement("placement:\n  numReplica: 3\n"))
                .isEqualTo(new PlacementConfig(3, 4, RankWeights.DEFAULTS));
        assertThat(placement("placement:\n  weights:\n    load: 2\n"))
                .isEqualTo(new PlacementConfig(2, 4, new RankWeights(1.0, 1.0, 2.0, 0.5)));
        assertThat(placement("placement: {}\n")).isEqualTo(PlacementConfig.DEFAULTS);
        assertThat(placement("placement:\n  weights: {}\n")).isEqualTo(PlacementConfig.DEFAULTS);
        assertThat(placement("transport: rdma\n")).isEqualTo(PlacementConfig.DEFAULTS);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            numReplica: 0       | 2:3 | placement.numReplica: must be between 1 and 8, got 0
            numReplica: 9       | 2:3 | placement.numReplica: must be between 1 and 8, got 9
            numReplica: -1      | 2:3 | placement.numReplica: must be between 1 and 8, got -1
            serverSelectNum: 1  | 2:3 | placement.serverSelectNum: must be at least numReplica (2) and at most 1024, got 1
            serverSelectNum: 1025 | 2:3 | placement.serverSelectNum: must be at least numReplica (2) and at most 1024, got 1025
            numReplica: two     | 2:3 | placement.numReplica: expected a whole number, got 'two'
            numReplica: 2.5     | 2:3 | placement.numReplica: expected a whole number, got 2.5
            numReplica: '3'     | 2:3 | placement.numReplica: expected a whole number, got '3' (write it without quotes)
            numReplica:         | 2:3 | placement.numReplica: no value given (write a value, or remove the key to use the default)
            """)
    void refusesBadPlacementValuesAtTheirLine(String line, String place, String message) {
        assertThatThrownBy(() -> client("placement:\n  " + line + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("valet.yaml:" + place + ": " + message);
    }

    @Test
    void numReplicaProblemNamesTheNestedKeyAndItsLine() {
        assertThatThrownBy(() -> client("placement:\n  numReplica: 9\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("placement.numReplica");
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.column()).isEqualTo(3);
                    assertThat(e.problem()).isEqualTo("must be between 1 and 8, got 9");
                    assertThat(e.getCause()).isInstanceOf(ConfigProblem.class);
                })
                .hasMessageContaining("placement.numReplica")
                .hasMessageContaining(":2:");
    }

    @Test
    void serverSelectNumBelowNumReplicaIsRefusedAtItsLine() {
        assertThatThrownBy(() -> client("transport: auto\nplacement:\n  numReplica: 5\n  serverSelectNum: 3\n"))
                .hasMessage("valet.yaml:4:3: placement.serverSelectNum: must be at least numReplica (5) and at most"
                        + " 1024, got 3");
    }

    @Test
    void defaultServerSelectNumBelowAWrittenNumReplicaIsRefusedWithoutALine() {
        assertThatThrownBy(() -> client("placement:\n  numReplica: 6\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.line()).isZero())
                .hasMessage("valet.yaml: placement.serverSelectNum: must be at least numReplica (6) and at most"
                        + " 1024, got 4 (placement.serverSelectNum is not set in this file, so its default applies)");
    }

    @Test
    void acceptsTheEdgesOfEachRange() {
        assertThat(placement("placement:\n  numReplica: 1\n  serverSelectNum: 1\n"))
                .isEqualTo(new PlacementConfig(1, 1, RankWeights.DEFAULTS));
        assertThat(placement("placement:\n  numReplica: 8\n  serverSelectNum: 8\n"))
                .isEqualTo(new PlacementConfig(8, 8, RankWeights.DEFAULTS));
        assertThat(placement("placement:\n  serverSelectNum: 1024\n").serverSelectNum()).isEqualTo(1024);
        assertThat(placement("placement:\n  numReplica: 4\n")).isEqualTo(new PlacementConfig(4, 4,
                RankWeights.DEFAULTS));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            freeMemory         | -1     | must be between 0 and 1000, got -1.0
            freeMemoryGradient | 1000.5 | must be between 0 and 1000, got 1000.5
            load               | 1001   | must be between 0 and 1000, got 1001.0
            latency            | -0.25  | must be between 0 and 1000, got -0.25
            latency            | .nan   | must be between 0 and 1000, got NaN
            load               | .inf   | must be between 0 and 1000, got Infinity
            freeMemory         | -.inf  | must be between 0 and 1000, got -Infinity
            load               | heavy  | expected a number, got 'heavy'
            latency            | '0.5'  | expected a number, got '0.5' (write it without quotes)
            """)
    void refusesBadWeightsAtTheirLine(String key, String value, String problem) {
        assertThatThrownBy(() -> client("placement:\n  weights:\n    " + key + ": " + value + "\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("placement.weights." + key);
                    assertThat(e.line()).isEqualTo(3);
                    assertThat(e.column()).isEqualTo(5);
                })
                .hasMessage("valet.yaml:3:5: placement.weights." + key + ": " + problem);
    }

    @Test
    void acceptsTheEdgesOfTheWeights() {
        assertThat(placement("""
                placement:
                  weights:
                    freeMemory: 1000
                    freeMemoryGradient: 0
                    load: 0.0
                    latency: 1000.0
                """).weights()).isEqualTo(new RankWeights(1000, 0, 0, 1000));
    }

    @Test
    void allWeightsZeroIsRefusedAtFreeMemory() {
        assertThatThrownBy(() -> client("""
                placement:
                  weights:
                    freeMemory: 0
                    freeMemoryGradient: 0
                    load: 0
                    latency: 0
                """))
                .hasMessage("valet.yaml:3:5: placement.weights.freeMemory: at least one weight must be above 0");
        // The rule is reported against freeMemory wherever it is written.
        assertThatThrownBy(() -> client("""
                placement:
                  weights:
                    load: 0
                    latency: 0
                    freeMemoryGradient: 0
                    freeMemory: 0
                """))
                .hasMessage("valet.yaml:6:5: placement.weights.freeMemory: at least one weight must be above 0");
    }

    @Test
    void oneWeightAboveZeroIsEnough() {
        assertThat(placement("""
                placement:
                  weights:
                    freeMemory: 0
                    freeMemoryGradient: 0
                    load: 0
                    latency: 0.001
                """).weights()).isEqualTo(new RankWeights(0, 0, 0, 0.001));
    }

    @Test
    void unknownKeyInPlacementListsThePlacementKeys() {
        assertThatThrownBy(() -> client("transport: auto\nplacement:\n  numReplica: 2\n  numReplicas: 3\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("placement.numReplicas");
                    assertThat(e.line()).isEqualTo(4);
                    assertThat(e.column()).isEqualTo(3);
                })
                .hasMessage("valet.yaml:4:3: placement.numReplicas: unknown key 'numReplicas' (did you mean"
                        + " 'numReplica'?); valid keys: numReplica, serverSelectNum, weights");
        assertThatThrownBy(() -> client("placement:\n  server_select_num: 8\n"))
                .hasMessage("valet.yaml:2:3: placement.server_select_num: unknown key 'server_select_num' (did you"
                        + " mean 'serverSelectNum'?); valid keys: numReplica, serverSelectNum, weights");
    }

    @Test
    void unknownKeyInWeightsListsTheWeights() {
        assertThatThrownBy(() -> client("placement:\n  weights:\n    load: 1\n    lod: 1\n"))
                .hasMessage("valet.yaml:4:5: placement.weights.lod: unknown key 'lod' (did you mean 'load'?);"
                        + " valid keys: freeMemory, freeMemoryGradient, load, latency");
        assertThatThrownBy(() -> client("placement:\n  weights:\n    bandwidth: 1\n"))
                .hasMessage("valet.yaml:3:5: placement.weights.bandwidth: unknown key 'bandwidth'; valid keys:"
                        + " freeMemory, freeMemoryGradient, load, latency");
    }

    @Test
    void placementKeyWrittenAtTheTopLevelIsUnknownThere() {
        assertThatThrownBy(() -> client("numReplica: 3\n"))
                .hasMessageStartingWith("valet.yaml:1:1: numReplica: unknown key 'numReplica'; valid keys:"
                        + " identity,");
    }

    @Test
    void duplicateAndEmptyNestedKeysAreRefusedAtTheirLine() {
        assertThatThrownBy(() -> client("placement:\n  numReplica: 3\n  numReplica: 4\n"))
                .hasMessage("valet.yaml:3:3: placement.numReplica: duplicate key 'numReplica' (first set on line 2;"
                        + " keep one of them)");
        assertThatThrownBy(() -> client("placement:\n"))
                .hasMessage("valet.yaml:1:1: placement: no value given (write a value, or remove the key to use"
                        + " the default)");
        assertThatThrownBy(() -> client("placement:\n  weights:\n"))
                .hasMessage("valet.yaml:2:3: placement.weights: no value given (write a value, or remove the key"
                        + " to use the default)");
    }

    /**
     * A value where a section belongs is refused at the right key and line. The problem names the section's keys
     * ("expected a section with the keys numReplica, serverSelectNum, weights (...), got 3"), as ConfigLoaderTest
     * pins for a section of its own; only the place is pinned here.
     */
    @Test
    void valueWhereASectionBelongsIsRefusedAtItsLine() {
        assertThatThrownBy(() -> client("placement: 3\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("placement");
                    assertThat(e.line()).isEqualTo(1);
                })
                .hasMessageStartingWith("valet.yaml:1:1: placement: ");
        assertThatThrownBy(() -> client("placement:\n  weights: [1, 2]\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.keyPath()).isEqualTo("placement.weights");
                    assertThat(e.line()).isEqualTo(2);
                })
                .hasMessageStartingWith("valet.yaml:2:3: placement.weights: ");
    }

    @Test
    void validateNamesKeysRelativeToTheSection() {
        assertThatThrownBy(() -> new PlacementConfig(0, 4, RankWeights.DEFAULTS).validate())
                .isInstanceOfSatisfying(ConfigProblem.class, p -> assertThat(p.keyPath()).isEqualTo("numReplica"));
        assertThatThrownBy(() -> new PlacementConfig(2, 1, RankWeights.DEFAULTS).validate())
                .hasMessage("serverSelectNum: must be at least numReplica (2) and at most 1024, got 1");
        assertThatThrownBy(() -> new PlacementConfig(2, 4, new RankWeights(1, 1, 1, Double.NaN)).validate())
                .hasMessage("weights.latency: must be between 0 and 1000, got NaN");
        assertThatThrownBy(() -> new RankWeights(0, 0, 0, 0).validate())
                .hasMessage("freeMemory: at least one weight must be above 0");
    }

    @Test
    void overridesChangeOneKey() {
        assertThat(ConfigLoader.override(PlacementConfig.DEFAULTS, ConfigOverride.of("numReplica", 3)))
                .isEqualTo(new PlacementConfig(3, 4, RankWeights.DEFAULTS));
        assertThat(ConfigLoader.override(PlacementConfig.DEFAULTS, ConfigOverride.of("serverSelectNum", "16")))
                .isEqualTo(new PlacementConfig(2, 16, RankWeights.DEFAULTS));
    }

}
