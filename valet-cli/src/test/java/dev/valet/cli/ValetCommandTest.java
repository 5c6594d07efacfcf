package dev.valet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher as a user meets it: help for every option, exit codes, one-line errors. */
class ValetCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void everyOptionOfEveryCommandIsExplained() {
        List<String> undocumented = new ArrayList<>();
        CommandLine root = ValetCommand.commandLine();
        for (CommandLine sub : root.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            assertThat(spec.usageMessage().description()).as(spec.name() + " description").isNotEmpty();
            for (OptionSpec o : spec.options()) {
                String text = String.join(" ", o.description()).trim();
                if (text.length() < 10) {
                    undocumented.add(spec.name() + " " + o.longestName());
                }
            }
        }
        assertThat(undocumented).isEmpty();
    }

    @Test
    void donorHelpNamesEveryFlagAndItsYamlKey() {
        CliRun r = run("donor", "--help");
        assertThat(r.exit()).isZero();
        for (String flag : List.of("--config", "--listen", "--memory", "--max-slab", "--max-frame",
                "--[no-]lock-memory", "--transport", "--ready-file")) {
            assertThat(r.out()).contains(flag);
        }
        String help = r.out().replaceAll("\\s+", " ");
        for (String key : List.of("listen", "memory", "maxSlabBytes", "maxFrameBytes", "lockMemory", "transport")) {
            assertThat(help).contains("YAML key: " + key);
        }
    }

    @Test
    void badFlagValueIsOneLineAndExitTwo() {
        CliRun r = run("donor", "--memory", "8X");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--memory").contains("'8X'").contains("expected a size like");
    }

    @Test
    void badYamlNamesFileLineAndKey() throws Exception {
        Path yaml = dir.resolve("donor.yaml");
        Files.writeString(yaml, "listen: 127.0.0.1:7070\nmemroy: 8G\n");
        CliRun r = run("donor", "--config", yaml.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(yaml + ":2:").contains("unknown key 'memroy'").contains("did you mean 'memory'");
    }

    @Test
    void flagThatBreaksARangeIsRefusedBeforeStarting() {
        CliRun r = run("donor", "--max-frame", "1K", "--listen", "127.0.0.1:0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("maxFrameBytes").contains("64K");
    }

    @Test
    void badPortalListNamesTheLine() throws Exception {
        Path list = dir.resolve("portal.list");
        Files.writeString(list, "2\n127.0.0.1:7070\n127.0.0.1:7070\n");
        CliRun r = run("check", "--portal", list.toString(), "--no-progress");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(list + ":3:").contains("duplicate");
    }

    @Test
    void checkAgainstSpawnedDonorsVerifiesEveryPage() {
        CliRun r = run("check", "--spawn-donors", "2", "--donor-memory", "64M", "--pages", "4000", "--slab-size", "1M",
                "--rounds", "2", "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        // The summary line goes to System.out, outside picocli's writers; the exit code carries the verdict.
    }

    @Test
    void demoKillsADonorAndLosesNoPage() {
        CliRun r = run("demo", "--working-set", "32M", "--slab-size", "4M", "--donor-memory", "128M", "--no-progress");
        // Exit 0 only when every page verified, lost=0, and every slab got its two copies back.
        assertThat(r.exit()).as(r.err()).isZero();
    }

    /** The key comes from the spawned donors' secret; with a backup disk, the disk is sealed too. */
    @ParameterizedTest(name = "backup disk: {0}")
    @ValueSource(booleans = {false, true})
    void demoWithEncryptionKillsADonorAndLosesNoPage(boolean backupDisk) {
        List<String> args = new ArrayList<>(List.of("demo", "--encryption", "aes-256-gcm", "--working-set", "16M",
                "--slab-size", "4M", "--donor-memory", "128M", "--no-progress"));
        if (backupDisk) {
            args.addAll(List.of("--backup-disk", dir.resolve("backup.img").toString()));
        }
        CliRun r = run(args.toArray(String[]::new));
        // Exit 0 only when every page authenticated and verified, lost=0, and every slab got its copies back.
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void demoRefusesAnUnknownEncryptionModeNamingTheFlag() {
        CliRun r = run("demo", "--encryption", "rot13", "--no-progress");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("--encryption").contains("rot13").contains("aes-256-gcm");
    }

    @Test
    void demoWithEvictMovesEverySlabOffTheDonorShortOfMemoryAndLosesNoPage() {
        CliRun r = run("demo", "--evict", "--working-set", "32M", "--slab-size", "4M", "--donor-memory", "128M",
                "--no-progress");
        // Exit 0 only when that donor holds no slab any more, every page verified, and every slab has two copies.
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void mistypedCommandSuggestsTheClosest() {
        CliRun r = run("chek");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("valet: Unmatched argument at index 0: 'chek'").contains("Did you mean")
                .contains("check").contains("Try 'valet --help'.").doesNotContain("valet valet");
    }

    @Test
    void mistypedFlagOfACommandSuggestsTheClosest() {
        CliRun r = run("check", "--page", "5");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("valet check: ").contains("--pages").contains("Try 'valet check --help'.");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            --pages   | -5 | --pages must be at least 1, got -5
            --pages   | 0  | --pages must be at least 1, got 0
            --batch   | 0  | --batch must be at least 1, got 0
            --window  | -1 | --window must be at least 1, got -1
            --rounds  | 0  | --rounds must be at least 1, got 0
            --first-slab | -2 | --first-slab must be at least 0, got -2
            --slab-size  | 6K | --slab-size must be a multiple of 4K, got 6K
            """)
    void badCheckOptionIsNamedWithItsValue(String flag, String value, String message) {
        CliRun r = run("check", flag, value, "--no-progress");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("valet check: " + message).doesNotContain("Options[");
    }

    @Test
    void everySummaryInTheTopLevelHelpIsWhole() {
        CliRun r = run("--help");
        assertThat(r.exit()).isZero();
        CommandLine root = ValetCommand.commandLine();
        for (CommandLine sub : root.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            String[] header = spec.usageMessage().header();
            String summary = header.length > 0 ? header[0] : spec.usageMessage().description()[0];
            assertThat(summary).as(spec.name() + "'s summary").endsWith(".");
            // The listing wraps a summary but shows all of it: its last word is there.
            String[] words = summary.split(" ");
            assertThat(r.out()).as(spec.name()).contains(words[words.length - 1]);
        }
    }

    @Test
    void testHooksAndOldFlagsStayOutOfHelp() {
        assertThat(run("donor", "--help").out()).doesNotContain("--meminfo-file");
        assertThat(run("bench", "--help").out()).contains("--duration=DURATION").doesNotContain("--seconds");
    }

    @Test
    void aCommandLineBuildsOnlyTheSubcommandItNames() {
        assertThat(ValetCommand.commandLine("donor", "--help").getSubcommands()).containsOnlyKeys("donor");
        // No subcommand, help, or a mistyped one: every subcommand, for the listing and the suggestions.
        assertThat(ValetCommand.commandLine().getSubcommands()).containsKeys("donor", "client", "status", "help");
        assertThat(ValetCommand.commandLine("help", "donor").getSubcommands()).hasSizeGreaterThan(5);
        CliRun typo = run("donr");
        assertThat(typo.exit()).isEqualTo(2);
        assertThat(typo.err()).contains("donor");
    }

    @Test
    void benchDurationTakesAUnitLikeEveryOtherDuration() {
        CliRun r = run("bench", "--duration", "8");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--duration").contains("'8'");

        CommandLine cli = ValetCommand.commandLine();
        cli.parseArgs("bench", "--duration", "1500ms");
        assertThat(((BenchCommand) cli.getSubcommands().get("bench").getCommand()).duration)
                .isEqualTo(Duration.ofMillis(1500));
        // The old flag, a bare number of seconds, still works for older scripts.
        cli = ValetCommand.commandLine();
        cli.parseArgs("bench", "--seconds", "8");
        assertThat(((BenchCommand) cli.getSubcommands().get("bench").getCommand()).duration)
                .isEqualTo(Duration.ofSeconds(8));
    }

    @Test
    void simulatePlacementRunsAllThreePolicies() {
        CliRun r = run("simulate-placement", "--donors", "100", "--slabs", "500");
        assertThat(r.exit()).isZero();
    }

    @Test
    void statusOfAnUnreachableDonorIsDownAndExitOne() throws Exception {
        Path list = dir.resolve("portal.list");
        // Port 1 on loopback: nothing listens there.
        Files.writeString(list, "1\n127.0.0.1:1\n");
        CliRun r = run("status", "--portal", list.toString());
        assertThat(r.exit()).isEqualTo(1);
    }
}
