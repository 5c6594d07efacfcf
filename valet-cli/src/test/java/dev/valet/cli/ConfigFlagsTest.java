package dev.valet.cli;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.config.TransportChoice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Flags that set YAML keys ({@link ConfigKey}): laid over the file, checked like it, and explained in help. */
class ConfigFlagsTest {
    @TempDir
    Path dir;

    /** The command {@code args} names, parsed as {@code valet} would. */
    private static <T> T parsed(Class<T> type, String... args) {
        CommandLine cli = ValetCommand.commandLine();
        CommandLine.ParseResult result = cli.parseArgs(args);
        return type.cast(result.subcommand().commandSpec().userObject());
    }

    @Test
    void flagsOverrideTheFileAndTheFileKeepsTheRest() throws Exception {
        Path yaml = Files.writeString(dir.resolve("valet.yaml"), "identity: from-file\nmaxPagesPerFrame: 64\n"
                + "portalList: donors.list\n");

        ClientConfig config = parsed(StatusCommand.class, "status", "--config", yaml.toString(), "--identity", "007",
                "--transport", "TCP").client.load();

        assertThat(config.identity()).isEqualTo("007");
        assertThat(config.transport()).isEqualTo(TransportChoice.TCP);
        assertThat(config.maxPagesPerFrame()).isEqualTo(64);
        assertThat(config.portalList()).isEqualTo(dir.resolve("donors.list"));
        assertThat(parsed(StatusCommand.class, "status", "--config", yaml.toString(), "--portal", "here.list")
                .client.load().portalList()).isEqualTo(Path.of("here.list"));
    }

    @Test
    void withoutAFileTheFlagsGoOverTheDefaults() {
        DonorConfig config = parsed(DonorCommand.class, "donor", "--memory", "8G", "--no-lock-memory",
                "--allow-unauthenticated").donor.load();

        assertThat(config).isEqualTo(ConfigLoader.parse("donor.yaml", """
                memory: 8G
                lockMemory: false
                auth:
                  allowUnauthenticated: true
                """, DonorConfig.class));
    }

    @Test
    void aFlagThatBreaksAKeysRuleIsNamedWithTheKey() {
        CliRun r = CliRun.of("check", "--identity", "a b", "--spawn-donors", "1");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("valet check: --identity: identity: character ' ' at position 2 is not"
                + " allowed in 'a b'");
        CliRun demo = CliRun.of("demo", "--donor-timeout", "100ms", "--no-progress");
        assertThat(demo.exit()).isEqualTo(2);
        assertThat(demo.err()).startsWith("valet demo: --donor-timeout: failover.donorTimeout: must be at least"
                + " twice heartbeatInterval (400ms)");
    }

    @Test
    void aBadValueIsRefusedBeforeTheCommandRuns() {
        CliRun r = CliRun.of("bench", "--slab-size", "1.5M", "--no-progress");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--slab-size': bad size '1.5M' (expected a size like"
                + " 4096, 64K, 512M or 8G; fractions are not allowed");
    }

    @Test
    void helpNamesTheKeyAndItsDefault() {
        String donor = CliRun.of("donor", "--help").out().replaceAll("\\s+", " ");
        String demo = CliRun.of("demo", "--help").out().replaceAll("\\s+", " ");

        assertThat(donor).contains("Most memory to lend, e.g. 512M or 8G. YAML key: memory (default 1G).")
                .contains("YAML key: lockMemory (default true).");
        assertThat(demo).contains("Default: 1s. YAML key: failover.donorTimeout.")
                .contains("YAML key: transport (default auto).")
                .contains("--donor-memory=SIZE Memory each started donor lends. Default: 2G.");
        assertThat(CliRun.of("client", "--help").out().replaceAll("\\s+", " "))
                .contains("YAML key: identity (default this host's name).");
    }

    /** The key sentence is added when help is first rendered, and only then: a second rendering does not repeat it. */
    @Test
    void helpRenderedTwiceNamesEachKeyOnce() {
        CommandLine donor = ValetCommand.commandLine("donor").getSubcommands().get("donor");
        OptionSpec memory = donor.getCommandSpec().findOption("--memory");
        assertThat(String.join(" ", memory.description())).doesNotContain("YAML key");

        donor.getUsageMessage();
        String second = donor.getUsageMessage().replaceAll("\\s+", " ");

        assertThat(second.split("YAML key: memory ", -1)).hasSize(2);
    }

    /** Every {@link ConfigKey} names a key of its configuration, and each command's help says which. */
    @Test
    void everyConfigKeyFlagNamesARealKey() {
        List<String> flags = new ArrayList<>();
        CommandLine root = ValetCommand.commandLine();
        for (CommandLine sub : root.getSubcommands().values()) {
            assertThat(sub.getUsageMessage()).isNotEmpty(); // the help names the keys (ConfigFlags.Help)
            for (OptionSpec option : sub.getCommandSpec().options()) {
                if (option.userObject() instanceof Field field && field.isAnnotationPresent(ConfigKey.class)) {
                    String key = field.getAnnotation(ConfigKey.class).value();
                    Class<? extends Record> type = field.getDeclaringClass().getAnnotation(ConfigKeysOf.class).value();
                    ConfigLoader.defaultText(type, key); // throws for a key the configuration does not have
                    assertThat(String.join(" ", option.description())).contains("YAML key: " + key);
                    flags.add(sub.getCommandName() + " " + option.longestName());
                }
            }
        }
        assertThat(flags).contains("donor --memory", "client --identity", "check --transport", "demo --backup-disk",
                "bench --connect-timeout");
    }
}
